// Package logging builds the logger every gopherscope binary logs with:
// structured JSON lines in zap's production encoding, one per event, as a
// logr.Logger. Library packages never build loggers; they are handed one.
package logging
