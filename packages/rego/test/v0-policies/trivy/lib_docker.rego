package lib.docker

from[instruction] {
  instruction := input.Stages[_].Commands[_]
  instruction.Cmd == "from"
}
