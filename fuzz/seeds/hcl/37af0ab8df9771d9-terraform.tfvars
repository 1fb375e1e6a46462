region = "eu-west-1"
# staging mirrors prod, but private
db_public = false
