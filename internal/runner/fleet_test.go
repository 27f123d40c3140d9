package runner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
)

// TestFleet checks that a Fleet runs one runner per wanted group, shared
// by the pipelines that want it, and stops it when none does.
func TestFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		clients := map[string]int{} // account → clients made
		f := NewFleet(FleetConfig{
			API: func(account string) (API, error) {
				mu.Lock()
				defer mu.Unlock()
				if account == "bad" {
					return nil, errors.New("no key for this account")
				}
				clients[account]++
				return newFakeAPI(), nil
			},
			Runner: Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LogDir: t.TempDir()},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		// Wants before Run are kept and served once it starts.
		f.Want("111", "df-A", []string{"culvert:df-A:Box"})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- f.Run(ctx) }()
		synctest.Wait()
		if got, want := f.Groups(), [][2]string{{"111", "culvert:df-A:Box"}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Groups() = %v, want %v", got, want)
		}
		f.Want("111", "df-B", []string{"culvert:df-A:Box", "culvert:df-B:Vm"})
		f.Want("bad", "df-C", []string{"culvert:df-C:Box"}) // logged, not served
		synctest.Wait()
		want := [][2]string{{"111", "culvert:df-A:Box"}, {"111", "culvert:df-B:Vm"}}
		if got := f.Groups(); !reflect.DeepEqual(got, want) {
			t.Fatalf("Groups() = %v, want %v", got, want)
		}
		// df-A is done, but df-B still wants the shared group.
		f.Want("111", "df-A", nil)
		synctest.Wait()
		if got := f.Groups(); !reflect.DeepEqual(got, want) {
			t.Fatalf("Groups() after one of two wanters left = %v, want %v", got, want)
		}
		f.Want("111", "df-B", nil)
		synctest.Wait()
		if got := f.Groups(); len(got) != 0 {
			t.Fatalf("Groups() once nothing is wanted = %v, want none", got)
		}
		// A node that stops leading forgets every want at once.
		f.Want("111", "df-D", []string{"culvert:df-D:Box"})
		f.Want("111", "df-E", []string{"culvert:df-E:Box"})
		synctest.Wait()
		if got := f.Groups(); len(got) != 2 {
			t.Fatalf("Groups() = %v, want two", got)
		}
		f.Reset()
		synctest.Wait()
		if got := f.Groups(); len(got) != 0 {
			t.Fatalf("Groups() after Reset = %v, want none", got)
		}
		mu.Lock()
		if clients["111"] != 4 {
			t.Errorf("clients made for account 111 = %d, want 4 (one per runner started)", clients["111"])
		}
		mu.Unlock()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
}
