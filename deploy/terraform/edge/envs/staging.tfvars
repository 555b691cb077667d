environment   = "staging"
region        = "eu-west-1"
domain_name   = "studio.example.com"
api_hostnames = ["api.staging.studio.example.com"]
ingress_group = "studio"
