# Evaluated by guard and by `terraform console`; the differential test
# compares every local and output. No provider is needed.

variable "env" {
  type    = string
  default = "dev"
}

variable "public" {
  type    = bool
  default = false
}

variable "replicas" {
  type    = number
  default = 1
}

variable "tags" {
  type    = map(string)
  default = { team = "core" }
}

variable "settings" {
  type = object({
    size    = optional(number, 20)
    engine  = optional(string, "postgres")
    backups = optional(bool)
  })
  default = {}
}

locals {
  name          = "app-${var.env}"
  is_prod       = var.env == "prod"
  replicas      = local.is_prod ? max(var.replicas, 3) : var.replicas
  all_tags      = merge(var.tags, { Environment = var.env, Name = local.name })
  tag_keys      = keys(local.all_tags)
  upper_name    = upper(local.name)
  joined        = join(",", ["a", "b", local.name])
  parts         = split("-", local.name)
  formatted     = format("%s has %d replicas (%.1f%%)", local.name, local.replicas, 12.5)
  ports         = [for p in [80, 443, 8080] : p if p != 8080]
  port_map      = { for i, p in local.ports : "p${i}" => p * 2 }
  grouped       = { for w in ["apple", "avocado", "banana"] : substr(w, 0, 1) => w... }
  lookup_hit    = lookup(local.all_tags, "team", "none")
  lookup_miss   = lookup(local.all_tags, "owner", "none")
  coalesced     = coalesce("", null, "third")
  concatenated  = concat(local.ports, [9000])
  flat          = flatten([[1, 2], [3, [4]]])
  uniq          = distinct(["a", "b", "a"])
  zipped        = zipmap(["x", "y"], [1, 2])
  numbers       = [min(3, 1, 2), max(3, 1, 2), abs(-4), 7 % 3, 10 / 4]
  trimmed       = trimspace("  hi  ")
  replaced      = replace("a-b-c", "-", "_")
  regex_replace = replace("v1.2.3", "/[0-9]+/", "N")
  safe          = try(local.all_tags.missing, "fallback")
  can_index     = can(local.all_tags.missing)
  encoded       = jsonencode({ b = [1, true, null], a = "x" })
  decoded       = jsondecode("{\"k\": [1, 2, {\"z\": false}]}")
  element_wrap  = element(["a", "b", "c"], 4)
  contains_it   = contains(local.ports, 443)
  length_all    = [length("héllo"), length(local.ports), length(local.all_tags)]
  set_sorted    = tolist(toset(["b", "a", "b"]))
  conversions   = [tostring(12), tonumber("3.5"), tobool("true")]
  splat         = [for o in [{ n = 1 }, { n = 2 }] : o][*].n
  heredoc       = <<-EOT
    name: ${local.name}
    %{ if local.is_prod }prod%{ else }nonprod%{ endif }
    %{ for t in ["x", "y"] ~}
    - ${t}
    %{ endfor ~}
  EOT
  heredoc_strip = <<-EOT
    x
    %{ for t in ["p", "q"] ~}
    - ${t}
    %{ endfor ~}
  EOT
  heredoc_plain = <<-EOT
    x
    %{ for t in ["p", "q"] }
    - ${t}
    %{ endfor }
  EOT
  quoted_strip  = "a %{ for t in ["p", "q"] ~}  \n  - ${t} %{ endfor ~}  \n z"
  rendered      = templatefile("${path.module}/config.tpl", { name = local.name, ports = local.ports, debug = !local.is_prod })
  by_key        = { for k, v in local.all_tags : lower(k) => length(v) if k != "team" }
  nested_for    = [for a in [1, 2] : [for b in ["x", "y"] : "${a}${b}"]]
  padded        = format("%03d|%-5s|%5s", 7, "ab", "cd")
  escapes       = "tab\tquote\" dollar $${literal}"
  arith         = (1 + 2) * 3 - 4 / 2
  compare       = [1 < 2, "a" == "a", 2 >= 3, true && !false, false || local.is_prod]
  settings      = var.settings
  module_out    = module.calc.doubled
  module_label  = module.calc.label
}

module "calc" {
  source = "./modules/calc"
  input  = local.replicas
  prefix = local.name
}

output "name" { value = local.name }
output "replicas" { value = local.replicas }
output "public" { value = var.public }
output "module_doubled" { value = module.calc.doubled }
