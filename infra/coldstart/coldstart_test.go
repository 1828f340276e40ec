// Package coldstart measures how long each function takes from exec to its
// first Runtime API request, beside a hello world and an SDK floor.
package coldstart

import (
	"debug/elf"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kinds"
)

// build builds pkg with the functions' flags (template.yaml, Makefile);
// ldflags "-s -w" strips the symbol table, as the deployed bootstraps are.
func build(tb testing.TB, pkg, ldflags string) string {
	out := filepath.Join(tb.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if o, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build %s: %v\n%s", pkg, err, o)
	}
	return out
}

// sdkCall is one AWS SDK operation as the linker names it.
var sdkCall = regexp.MustCompile(`^github\.com/aws/aws-sdk-go-v2/service/[a-z0-9]+\.\(\*Client\)\.[A-Z][A-Za-z0-9]*$`)

// sdkCalls lists the SDK operations a binary links.
func sdkCalls(t *testing.T, bin string) []string {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatalf("symbols of %s: %v", bin, err)
	}
	var calls []string
	for _, s := range syms {
		if sdkCall.MatchString(s.Name) {
			calls = append(calls, strings.TrimPrefix(s.Name, "github.com/aws/aws-sdk-go-v2/service/"))
		}
	}
	slices.Sort(calls)
	return slices.Compact(calls)
}

// TestFloorsLinkTheSDKCalls: each SDK floor links exactly the SDK operations
// its function links, no more (which would flatter the function) and no
// fewer (which would charge the SDK's code to ours).
func TestFloorsLinkTheSDKCalls(t *testing.T) {
	for _, fn := range []string{"reconcile", "webhook"} {
		got := sdkCalls(t, build(t, "./floor-"+fn, ""))
		want := sdkCalls(t, build(t, "../../functions/"+fn, ""))
		if len(want) == 0 {
			t.Fatalf("found no SDK operation in functions/%s: has the linker's naming changed?", fn)
		}
		if !slices.Equal(got, want) {
			t.Errorf("floor-%s links %v;\nfunctions/%s links %v", fn, got, fn, want)
		}
	}
}

// startToNext is one cold start: exec, then the first GET .../invocation/next.
// It also returns the minor page faults the process took by then (it is
// killed while that request waits): on a VM each costs microseconds, and
// they explain most of the differences between the binaries.
func startToNext(b *testing.B, bin string, env []string) (took time.Duration, faults int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	got := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- time.Now():
		default:
		}
		<-r.Context().Done() // hold the poll; the process is killed next
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	select {
	case t := <-got:
		took = t.Sub(start)
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		b.Fatalf("%s never polled the Runtime API", bin)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		faults = ru.Minflt
	}
	return took, faults
}

const config = `{"atlas":{"baseURL":"https://cloud.mongodb.com","credentials":{"secretId":"ipsync/atlas"},"projects":["5aec7afbf7d068e35a39809b"]},
"snapshot":{"url":"s3://bucket/ipsync/snapshot.json"},"trigger":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/t.fifo"},
"webhook":{"secretId":"ipsync/webhook"},"notify":{"topicArn":"arn:aws:sns:us-east-1:111122223333:alerts"},
"targets":[{"name":"k","type":"kms-key-policy","resource":"1234abcd-12ab-34cd-56ef-1234567890ab","sid":"S"}]}`

// configNine configures one target of each of the nine kinds: started with
// it, the reconcile function reads "reconcile-nine". Adapters are built on
// the first invocation, so what the kinds could cost at start is their
// config's decoding and checks.
const configNine = `{"atlas":{"baseURL":"https://cloud.mongodb.com","credentials":{"secretId":"ipsync/atlas"},"projects":["5aec7afbf7d068e35a39809b"]},
"snapshot":{"url":"s3://bucket/ipsync/snapshot.json"},"trigger":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/t.fifo"},
"webhook":{"secretId":"ipsync/webhook"},"notify":{"topicArn":"arn:aws:sns:us-east-1:111122223333:alerts"},
"gcp":{"credentials":{"secretId":"ipsync/gcp"}},
"azure":{"tenantId":"00000000-0000-0000-0000-000000000001","clientId":"00000000-0000-0000-0000-000000000002","credentials":{"secretId":"ipsync/azure"}},
"targets":[{"name":"k","type":"kms-key-policy","resource":"1234abcd-12ab-34cd-56ef-1234567890ab","sid":"S"},
{"name":"e","sources":["control-plane-outbound"],"type":"vpc-endpoint-policy","resource":"vpce-0123456789abcdef0","sid":"S"},
{"name":"r","sources":["control-plane-outbound"],"type":"iam-role-policy","resource":"atlas-ear/atlas-ip","sid":"S"},
{"name":"g","sources":["control-plane-outbound"],"type":"security-group","resource":"sg-0123456789abcdef0","sid":"atlas-ip-sync:","direction":"egress","protocol":"tcp","ports":"27015-27017"},
{"name":"p","sources":["control-plane-outbound"],"type":"prefix-list","resource":"pl-0123456789abcdef0","sid":"atlas-ip-sync:"},
{"name":"w","sources":["control-plane-outbound"],"type":"waf-ip-set","resource":"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/atlas/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111","sid":"atlas-ip-sync"},
{"name":"l","sources":["control-plane-outbound"],"type":"gcp-access-level","resource":"accessPolicies/123456789/accessLevels/atlas_ip_sync","sid":"atlas-ip-sync"},
{"name":"v","sources":["control-plane-outbound"],"type":"azure-key-vault","resource":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/atlas-kv","sid":"atlas-ip-sync"},
{"name":"a","type":"atlas-access-list","resource":"5aec7afbf7d068e35a39809b","sid":"atlas-ip-sync:","sources":["nat-gateways:ipsync=egress"]}]}`

// BenchmarkColdStart reports, for each function, the median of 20 starts and
// its ratio to its SDK floor and to the hello world (measured side by side,
// interleaved, in one run). Two more binaries per function split the ratio:
//   - imports-NAME only imports the SDK packages (issue 6's first sketch of a
//     floor): floor/imports is what linking the SDK operations costs;
//   - linked-NAME links what the function links but starts like the floor:
//     linked/floor is what linking our code and non-SDK dependencies costs,
//     function/linked what the function does at start.
func BenchmarkColdStart(b *testing.B) {
	bins := map[string]string{"hello": build(b, "./hello", "-s -w")}
	for _, fn := range []string{"reconcile", "webhook"} {
		bins[fn] = build(b, "../../functions/"+fn, "-s -w")
		for _, kind := range []string{"imports-", "floor-", "linked-"} {
			bins[kind+fn] = build(b, "./"+kind+fn, "-s -w")
		}
	}
	// A second build of the webhook's floor: floor-webhook-2/floor is what
	// the measurement reads for two identical binaries.
	bins["floor-webhook-2"] = build(b, "./floor-webhook", "-s -w")
	for _, bin := range bins {
		settle(b, bin)
	}
	env := []string{"IPSYNC_CONFIG=" + config, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_EC2_METADATA_DISABLED=true"}
	order := []string{"hello", "imports-reconcile", "floor-reconcile", "linked-reconcile", "reconcile", "reconcile-nine",
		"imports-webhook", "floor-webhook", "linked-webhook", "webhook", "floor-webhook-2"}
	bins["reconcile-nine"] = bins["reconcile"]
	envNine := append(slices.Clone(env), "IPSYNC_CONFIG="+configNine) // the later value wins
	// Issue 6 asks for the median of 20 starts; COLDSTART_STARTS=150 gives a
	// steadier median when two ratios sit near the goal.
	starts := 20
	if n, err := strconv.Atoi(os.Getenv("COLDSTART_STARTS")); err == nil && n > 0 {
		starts = n
	}
	samples := map[string][]time.Duration{}
	faults := map[string][]int64{}
	for b.Loop() {
		clear(samples)
		clear(faults)
		for range starts {
			for _, name := range order { // interleaved: drift hits every binary alike
				e := env
				if name == "reconcile-nine" {
					e = envNine
				}
				took, n := startToNext(b, bins[name], e)
				samples[name] = append(samples[name], took)
				faults[name] = append(faults[name], n)
			}
		}
	}
	median := map[string]float64{}
	for name, s := range samples {
		s = slices.Clone(s) // samples stay in round order, for ratioInterval
		slices.Sort(s)
		median[name] = float64(s[len(s)/2].Microseconds()) / 1000
		b.ReportMetric(median[name], name+"-ms")
		f := faults[name]
		slices.Sort(f)
		b.ReportMetric(float64(f[len(f)/2]), name+"-faults")
	}
	b.ReportMetric(median["reconcile"]/median["floor-reconcile"], "reconcile/floor")
	b.ReportMetric(median["webhook"]/median["floor-webhook"], "webhook/floor")
	b.ReportMetric(median["floor-webhook-2"]/median["floor-webhook"], "floor-webhook-2/floor")
	for _, fn := range []string{"reconcile", "webhook"} {
		b.ReportMetric(median[fn]/median["imports-"+fn], fn+"/imports")
		b.ReportMetric(median["floor-"+fn]/median["imports-"+fn], "floor-"+fn+"/imports")
		b.ReportMetric(median["linked-"+fn]/median["floor-"+fn], "linked-"+fn+"/floor")
		b.ReportMetric(median[fn]/median["linked-"+fn], fn+"/linked")
	}
	b.ReportMetric(anonFaultMicros(b), "anon-fault-us")
	b.ReportMetric(median["floor-reconcile"]/median["hello"], "floor-reconcile/hello")
	b.ReportMetric(median["floor-webhook"]/median["hello"], "floor-webhook/hello")
	// The goals' ratios with their spread: a 95 % bootstrap interval.
	b.ReportMetric(median["reconcile-nine"]/median["floor-reconcile"], "reconcile-nine/floor")
	b.ReportMetric(median["reconcile-nine"]/median["reconcile"], "reconcile-nine/reconcile")
	for _, r := range []struct{ a, b, name string }{
		{"reconcile", "floor-reconcile", "reconcile/floor"}, {"reconcile-nine", "floor-reconcile", "reconcile-nine/floor"},
		{"webhook", "floor-webhook", "webhook/floor"}, {"floor-webhook-2", "floor-webhook", "floor-webhook-2/floor"},
		{"reconcile-nine", "reconcile", "reconcile-nine/reconcile"}, {"floor-reconcile", "hello", "floor-reconcile/hello"},
	} {
		lo, hi := ratioInterval(samples[r.a], samples[r.b], 2000)
		b.ReportMetric(lo, r.name+"-lo95")
		b.ReportMetric(hi, r.name+"-hi95")
	}
}

// ratioInterval is a 95 % bootstrap interval of median(a)/median(b). The
// starts were interleaved, a[i] and b[i] in the same round, so rounds are
// resampled whole: drift that hit both binaries in a round stays paired.
// The seed is fixed, so the same samples give the same interval.
func ratioInterval(a, b []time.Duration, resamples int) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := min(len(a), len(b))
	ratios := make([]float64, resamples)
	ra, rb := make([]time.Duration, n), make([]time.Duration, n)
	for k := range ratios {
		for i := range n {
			j := rng.IntN(n)
			ra[i], rb[i] = a[j], b[j]
		}
		slices.Sort(ra)
		slices.Sort(rb)
		ratios[k] = float64(ra[n/2]) / float64(rb[n/2])
	}
	slices.Sort(ratios)
	return ratios[resamples*25/1000], ratios[resamples*975/1000-1]
}

// settle writes a binary back to disk, drops it from the page cache and
// reads it in once, front to back, so that every binary starts from the same
// cache state. Left as the linker wrote it, a binary starts as fast as its
// cached pages allow: in a throwaway test (60 interleaved starts), three
// identical builds started up to 7 % apart, depending on when and how their
// pages had entered the cache.
func settle(b *testing.B, bin string) {
	f, err := os.Open(bin)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		b.Fatalf("sync %s: %v", bin, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatalf("drop %s from the page cache: %v", bin, err)
	}
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatalf("read %s: %v", bin, err)
	}
}

// anonFaultMicros is what one first touch of a fresh anonymous page costs on
// this machine: it prices the page faults the binaries take.
func anonFaultMicros(b *testing.B) float64 {
	const pages = 2000
	mem, err := syscall.Mmap(-1, 0, pages*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = syscall.Munmap(mem) }()
	start := time.Now()
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	return float64(time.Since(start).Nanoseconds()) / pages / 1000
}

func TestRatioInterval(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	same := ms(10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
	if lo, hi := ratioInterval(same, same, 500); lo != 1 || hi != 1 {
		t.Errorf("a binary against itself: [%v, %v]", lo, hi)
	}
	double := ms(20, 22, 24, 26, 28, 30, 32, 34, 36, 38)
	if lo, hi := ratioInterval(double, same, 500); lo != 2 || hi != 2 {
		t.Errorf("twice as slow in every round: [%v, %v]", lo, hi)
	}
	noisy := ms(9, 14, 10, 18, 12, 11, 19, 13, 15, 17)
	lo, hi := ratioInterval(noisy, same, 500)
	if lo >= 1 || hi <= 1 || hi-lo < 0.05 {
		t.Errorf("noise around the same median: [%v, %v], want a spread across 1", lo, hi)
	}
}

// The starts measure a function that boots: both configs are valid, and
// configNine names every kind once.
func TestColdStartConfigs(t *testing.T) {
	for name, doc := range map[string]string{"config": config, "configNine": configNine} {
		c, err := configfile.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "configNine" {
			seen := map[string]bool{}
			for _, tc := range c.Targets {
				seen[string(tc.Type)] = true
			}
			if all := kinds.All(); len(seen) != len(all) {
				t.Errorf("configNine has %d kinds of the registry's %d (%s)", len(seen), len(all), all.Names())
			}
		}
	}
}
