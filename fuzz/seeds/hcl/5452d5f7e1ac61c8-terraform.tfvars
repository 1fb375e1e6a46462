database_url = "postgres://app:s3cr3t@db.internal:5432/app"
