vpc_cidr      = "10.10.0.0/16"
instance_type = "t3.micro"  // dev環境で小型マシンを使用してコスト削減
