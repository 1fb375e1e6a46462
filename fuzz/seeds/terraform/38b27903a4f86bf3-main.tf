resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = var.instance_type
  tags = {
    VpcId = var.vpc_id
  }
}
