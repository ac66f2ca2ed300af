# docs/: hand-written man pages of the agent.
dist_man_MANS += docs/virtseedd.8 docs/virtseed.conf.5
