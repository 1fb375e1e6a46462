vpc_cidr      = "10.20.0.0/16"
instance_type = "m5.large"  // 本番環境で大型マシンを使用してトラフィックを処理
