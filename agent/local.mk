# agent/: virtseedd
