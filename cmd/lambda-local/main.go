// Command lambda-local runs a built Lambda bootstrap the way Lambda does, for
// one event, on this machine: it serves the Runtime API on loopback, starts
// the bootstrap with the current environment, hands it the event and prints
// the function's response. A development tool for the demo; never deployed.
//
//	lambda-local -bootstrap build/reconcile/bootstrap -event events/schedule.json
//
// Exit status: 0 when the function returned a response, 1 when it returned an
// error or could not start.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "lambda-local: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bootstrap", "", "the function's bootstrap binary (built for this machine)")
	eventFile := flag.String("event", "", "the event JSON file")
	timeout := flag.Duration("timeout", 2*time.Minute, "how long the invocation may take")
	flag.Parse()
	if *bin == "" || *eventFile == "" {
		return fmt.Errorf("usage: lambda-local -bootstrap FILE -event FILE")
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}
	rt, err := testenv.StartRuntimeAPI()
	if err != nil {
		return err
	}
	defer rt.Close()
	cmd := exec.Command(*bin)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+rt.Addr)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // the function's logs and metrics
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	type outcome struct {
		res testenv.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() { r, err := rt.Invoke(ctx, event); done <- outcome{r, err} }()
	select {
	case o := <-done:
		if o.err != nil {
			return o.err
		}
		if o.res.Error != nil {
			return fmt.Errorf("the function returned an error: %s", o.res.Error)
		}
		fmt.Printf("response: %s\n", o.res.Response)
		return nil
	case err := <-exited:
		return fmt.Errorf("the function exited before answering: %v", err)
	}
}
