package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// pluginBinary is the name kubectl looks for to run `kubectl gopherscope`:
// installed under it, gopherscope is a kubectl plugin.
const pluginBinary = "kubectl-gopherscope"

// program is how the user calls gopherscope: "gopherscope", or
// "kubectl gopherscope" when it runs as a kubectl plugin.
type program string

// programOf names the program from its path (os.Args[0]).
func programOf(argv0 string) program {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	if base == pluginBinary {
		return "kubectl gopherscope"
	}
	return "gopherscope"
}

// commandLine matches a gopherscope command line in help text: the word
// gopherscope followed by a command's name, help, COMMAND or --version,
// with kubectl before it if it is there already.
var commandLine = sync.OnceValue(func() *regexp.Regexp {
	words := []string{"help", "COMMAND", "--version"}
	for _, c := range commands() {
		words = append(words, regexp.QuoteMeta(c.name))
	}
	return regexp.MustCompile(`(?:\bkubectl )?\bgopherscope( (?:` + strings.Join(words, "|") + `)\b)`)
})

// text rewrites the command lines of a help text for p, so that a plugin's
// examples read `kubectl gopherscope top`.
func (p program) text(s string) string {
	if p == "gopherscope" {
		return s
	}
	return commandLine().ReplaceAllString(s, string(p)+"$1")
}
