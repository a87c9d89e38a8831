package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gopherscope/gopherscope/version"
)

// Exit codes of Main, the same for every command.
const (
	exitOK        = 0
	exitViolation = 1
	exitUsage     = 2
)

// exitCodesHelp is the exit-code paragraph of every command's help.
const exitCodesHelp = `Exit codes:
  0  done
  1  strict-mode violations: the config has strict: true and an object has
     invalid gopherscope annotations (nothing is written to stdout)
  2  usage or input errors: a bad flag, an unreadable file, invalid YAML or
     JSON, a config that cannot be read (nothing is written to stdout)
`

// Streams are the process's standard streams.
type Streams struct {
	In          io.Reader
	Out, ErrOut io.Writer
}

// command is one subcommand of gopherscope.
type command struct {
	// name is what the user types: `gopherscope NAME`.
	name string
	// summary is the command's line in the root help.
	summary string
	// help is the command's help before its flags: usage, description,
	// examples.
	help string
	// exitCodes is the exit-code paragraph of its help (default:
	// exitCodesHelp).
	exitCodes string
	// setup declares the command's flags on fs and returns the function that
	// runs it with the arguments left after the flags.
	setup func(fs *pflag.FlagSet) func(ctx context.Context, args []string, s Streams) error
}

// commands are gopherscope's subcommands, in the order the root help lists
// them. A new command is one entry here.
func commands() []command {
	return []command{
		injectCommand(),
		checkCommand(),
		topCommand(),
		profileCommand(),
		goroutinesCommand(),
		traceCommand(),
		versionCommand(),
	}
}

// Main runs the command line args (without the program name) and returns
// the process's exit code (see exitCodesHelp). argv0 is the program's path
// (os.Args[0]): installed as kubectl-gopherscope, the help and messages say
// `kubectl gopherscope`. It reads files only where args name them.
func Main(ctx context.Context, argv0 string, args []string, s Streams) int {
	p := programOf(argv0)
	if len(args) == 0 {
		_, _ = fmt.Fprint(s.ErrOut, p.text(rootHelp()))
		return exitUsage
	}
	switch args[0] {
	case "--version", "-version":
		_, _ = fmt.Fprintln(s.Out, version.Version)
		return exitOK
	case "help", "-h", "-help", "--help":
		return help(p, args[1:], s)
	}
	cmd, ok := lookup(args[0])
	if !ok {
		_, _ = fmt.Fprintf(s.ErrOut, "%s: unknown command %q\n\n%s", p, args[0], p.text(rootHelp()))
		return exitUsage
	}
	fs, run := cmd.flagSet(p, s.Out) // -h: the help is the output asked for
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		_, _ = fmt.Fprintf(s.ErrOut, "%s %s: %v\nSee '%s help %s'.\n", p, cmd.name, err, p, cmd.name)
		return exitUsage
	}
	err := run(ctx, fs.Args(), s)
	if err == nil {
		return exitOK
	}
	for _, e := range flatten(err) {
		_, _ = fmt.Fprintf(s.ErrOut, "%s %s: %v\n", p, cmd.name, e)
	}
	var usage usageError
	if errors.As(err, &usage) {
		_, _ = fmt.Fprintf(s.ErrOut, "See '%s help %s'.\n", p, cmd.name)
	}
	return exitCode(err)
}

// exitCode is 1 when every error in err is a strict-mode violation, else 2.
func exitCode(err error) int {
	for _, e := range flatten(err) {
		var v violationError
		if !errors.As(e, &v) {
			return exitUsage
		}
	}
	return exitViolation
}

// flatten lists the errors that err joins (errors.Join), or err alone.
func flatten(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// usageError is a mistake on the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// violationError is an object the config's strict mode refuses.
type violationError struct{ error }

func (e violationError) Unwrap() error { return e.error }

// help prints the root help, or a command's: `gopherscope help inject`.
func help(p program, args []string, s Streams) int {
	if len(args) == 0 {
		_, _ = fmt.Fprint(s.Out, p.text(rootHelp()))
		return exitOK
	}
	cmd, ok := lookup(args[0])
	if !ok {
		_, _ = fmt.Fprintf(s.ErrOut, "%s help: unknown command %q\n\n%s", p, args[0], p.text(rootHelp()))
		return exitUsage
	}
	fs, _ := cmd.flagSet(p, s.Out)
	fs.Usage()
	return exitOK
}

// lookup finds a command by name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// flagSet declares the command's flags on a new set whose usage (for -h and
// `gopherscope help NAME`) writes the command's help, as p names it, to w.
func (c command) flagSet(p program, w io.Writer) (*pflag.FlagSet, func(context.Context, []string, Streams) error) {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(w)
	fs.SortFlags = false
	run := c.setup(fs)
	fs.Usage = func() {
		_, _ = fmt.Fprint(w, p.text(c.help))
		if fs.HasFlags() {
			_, _ = fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
		}
		exits := c.exitCodes
		if exits == "" {
			exits = exitCodesHelp
		}
		_, _ = fmt.Fprintf(w, "\n%s", p.text(exits))
	}
	return fs, run
}

// rootHelp lists the commands.
func rootHelp() string {
	var b strings.Builder
	b.WriteString(`gopherscope: Go runtime introspection for Kubernetes workloads.

Usage:
  gopherscope COMMAND [flags]
  gopherscope help COMMAND    the command's help, with examples
  gopherscope --version       print the version

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	b.WriteString("\n" + exitCodesHelp)
	return b.String()
}

// versionCommand is `gopherscope version`, the same as `gopherscope --version`.
func versionCommand() command {
	return command{
		name:    "version",
		summary: "Print the version (the same as gopherscope --version).",
		help: `Print the version of gopherscope.

Usage:
  gopherscope version

Examples:
  gopherscope version
  gopherscope --version
`,
		setup: func(*pflag.FlagSet) func(context.Context, []string, Streams) error {
			return func(_ context.Context, args []string, s Streams) error {
				if len(args) > 0 {
					return usageError{fmt.Errorf("unexpected arguments %q", args)}
				}
				_, err := fmt.Fprintln(s.Out, version.Version)
				return err
			}
		},
	}
}
