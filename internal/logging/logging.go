package logging

import (
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// CheckLevel reports whether level is a level New accepts.
func CheckLevel(level string) error {
	_, err := parseLevel(level)
	return err
}

// New returns a JSON logger at level (debug, info, warn or error; debug
// enables V(1)) writing to w, and a function that flushes it. As zap's
// production logger does, it samples repeated lines (after 100 identical
// messages in a second, one in 100) and adds the caller; it adds no stack
// traces, so every error is one line.
func New(level string, w io.Writer) (logr.Logger, func(), error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return logr.Logger{}, nil, err
	}
	out := zapcore.Lock(zapcore.AddSync(w))
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), out, lvl)
	core = zapcore.NewSamplerWithOptions(core, time.Second, 100, 100)
	z := zap.New(core, zap.AddCaller(), zap.ErrorOutput(out))
	return zapr.NewLogger(z), func() { _ = z.Sync() }, nil
}

func parseLevel(level string) (zapcore.Level, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return lvl, fmt.Errorf("%q is not one of debug, info, warn, error", level)
	}
	return lvl, nil
}
