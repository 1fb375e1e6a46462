env      = "prod"
public   = "true"
replicas = 2
tags     = { team = "platform", cost = "42" }
settings = { size = 100, backups = true }
