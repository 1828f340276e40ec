package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// Moto is one moto_server process on 127.0.0.1, reached through a proxy
// that makes its conditional S3 writes atomic (see atomicWrites).
type Moto struct {
	Endpoint string // the proxy: give this to every client
	cmd      *exec.Cmd
	proxy    *atomicWrites
}

var (
	motoOnce sync.Once
	motoProc *Moto
	motoErr  error
)

// StartMoto starts moto_server on a free loopback port and waits until it answers.
func StartMoto() (*Moto, error) { return StartMotoWith() }

// StartMotoWith starts a moto_server of its own with extra environment
// (KEY=VALUE), such as INITIAL_NO_AUTH_ACTION_COUNT to make it enforce IAM.
// The caller stops it.
func StartMotoWith(env ...string) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server not on PATH: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	if os.Getenv("IPSYNC_MOTO_LOG") == "" {
		cmd.Stdout, cmd.Stderr = nil, nil
	} else {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	m := &Moto{cmd: cmd}
	direct := fmt.Sprintf("http://127.0.0.1:%d", port)
	if m.proxy, err = startAtomicWrites(direct); err != nil {
		m.Stop()
		return nil, fmt.Errorf("proxy for moto_server: %w", err)
	}
	m.Endpoint = m.proxy.url
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.Stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 30s", direct)
}

// Stop ends the proxy and moto's process group by PID.
func (m *Moto) Stop() {
	if m == nil {
		return
	}
	if m.proxy != nil {
		m.proxy.close()
	}
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Reset wipes every resource moto holds, between tests.
func (m *Moto) Reset(tb testing.TB) {
	tb.Helper()
	resp, err := http.Post(m.Endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		tb.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
}

// SharedMoto returns the test binary's moto_server, starting it on first use.
// Call StopSharedMoto from TestMain after m.Run.
func SharedMoto(tb testing.TB) *Moto {
	tb.Helper()
	motoOnce.Do(func() { motoProc, motoErr = StartMoto() })
	if motoErr != nil {
		Missing(tb, "%v", motoErr)
	}
	return motoProc
}

// StopSharedMoto stops the shared moto_server, if one was started.
func StopSharedMoto() { motoProc.Stop() }

// AWSConfig is an SDK config that talks to this moto with dummy credentials.
func (m *Moto) AWSConfig(tb testing.TB) aws.Config { return AWSConfigAt(tb, m.Endpoint) }

// AWSConfigAt is an SDK config for an endpoint of the local stack (moto, or
// a fault proxy in front of it). The endpoint must be given at load time:
// the SDK resolves it from the load options, not from cfg.BaseEndpoint alone.
func AWSConfigAt(tb testing.TB, endpoint string) aws.Config {
	tb.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
		config.WithBaseEndpoint(endpoint),
		// The SDK's default logger prints to stderr in its own format.
		config.WithLogger(logging.Nop{}),
	)
	if err != nil {
		tb.Fatalf("aws config: %v", err)
	}
	return cfg
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Main runs a package's tests and then stops its shared moto_server:
// func TestMain(m *testing.M) { testenv.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	StopSharedMoto()
	os.Exit(code)
}
