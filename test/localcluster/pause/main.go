// Command pause is the local node's sandbox ("pause") image: it holds a pod's
// namespaces and does nothing else until it is told to stop. Nothing can be
// pulled here, so the harness builds it like our own images.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
