package scenarios_test

import (
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
