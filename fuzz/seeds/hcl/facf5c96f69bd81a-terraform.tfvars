# Production settings
region = "us-east-1"

# The reporting team needs direct access.

db_public = true
