package lambdafn

import (
	"io"
	stdlog "log"
	"log/slog"
)

// Logger returns the functions' JSON logger on w, and points the standard
// log package (which aws-lambda-go uses to report a failed invocation) at the
// same handler, so every stderr line is one JSON document.
func Logger(w io.Writer) *slog.Logger {
	l := slog.New(slog.NewJSONHandler(w, nil))
	stdlog.SetFlags(0)
	stdlog.SetOutput(&stdWriter{l: l})
	return l
}

type stdWriter struct{ l *slog.Logger }

func (s *stdWriter) Write(p []byte) (int, error) {
	msg := string(p)
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
	}
	s.l.Error("lambda runtime", "detail", msg)
	return len(p), nil
}
