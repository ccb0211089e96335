# METADATA
# title: "':latest' tag used"
# description: "When using a 'FROM' statement you should use a specific tag to avoid uncontrolled behavior when the image is updated."
# custom:
#   id: DS001
#   severity: MEDIUM
package builtin.dockerfile.DS001

import future.keywords.in

import data.lib.docker

image_names[image_name] = i {
  from := docker.from[i]
  image_name := from.Value[0]
}

image_tags[[img, line]] {
  from := docker.from[i]
  name := from.Value[0]
  not contains(name, "@")
  [img, line] := parse_tag(name, from.StartLine)
}

parse_tag(name, line) = [img, line] {
  [img, tag] := split(name, ":")
  tag == "latest"
} else = [name, line] {
  not contains(name, ":")
}

deny[res] {
  some [img, line] in image_tags
  not img == "scratch"
  msg := sprintf("Specify a tag in the 'FROM' statement for image '%s'", [img])
  res := {"msg": msg, "startline": line}
}
