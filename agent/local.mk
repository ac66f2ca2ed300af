# agent/: virtseedd, the guest agent.
sbin_PROGRAMS += agent/virtseedd
agent_virtseedd_SOURCES = agent/agent.h agent/main.c agent/args.c agent/setup.c agent/status.c \
	agent/fork.c
agent_virtseedd_LDADD = $(AGENT_LIBS)
