package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/culvert/culvert/internal/store"
)

// channel is the one channel every node listens on; a notification's
// payload names the topic. One channel, rather than one per topic, means a
// node listens once, at Open, on one connection: a long-poll subscribes
// in memory only, with no LISTEN of its own to race the notification it
// waits for and no connection held per poller.
const channel = "culvert"

// Reconnection backoff of the listening connection.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// notifier is the [store.Notifier] of a DB: local subscriptions in a
// store.LocalNotifier, fed by one listening connection with what the other
// nodes publish. A payload is the publishing DB's origin, a space, and the
// topic as a Go string literal (topics hold NUL bytes, which a payload
// cannot). The listener skips its own origin's notifications, since they
// were delivered locally when they were published.
type notifier struct {
	local  *store.LocalNotifier
	origin string
	log    *slog.Logger
	pool   *pgxpool.Pool
	cc     *pgx.ConnConfig

	mu      sync.Mutex
	topics  map[string]int      // open subscriptions per topic, so that wakeAll reaches them all
	pending map[string]struct{} // topics Publish has yet to send to the other nodes
	kick    chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newNotifier connects and listens, then starts the listener and the
// sender, which also wakes every subscriber every wakeEvery.
func newNotifier(ctx context.Context, pool *pgxpool.Pool, cc *pgx.ConnConfig, log *slog.Logger, wakeEvery time.Duration) (*notifier, error) {
	var id [6]byte
	rand.Read(id[:])
	n := &notifier{
		local:   store.NewLocalNotifier(),
		origin:  hex.EncodeToString(id[:]),
		log:     log,
		pool:    pool,
		cc:      cc,
		topics:  map[string]int{},
		pending: map[string]struct{}{},
		kick:    make(chan struct{}, 1),
	}
	conn, err := n.connect(ctx)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go n.listen(lctx, conn)
	go n.send(lctx, wakeEvery)
	return n, nil
}

func (n *notifier) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, n.cc.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: notifier: connect: %w", failed(ctx, err))
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgres: notifier: listen: %w", failed(ctx, err))
	}
	return conn, nil
}

// Publish implements [store.Notifier]: it wakes this node's subscribers at
// once, and sends the topic to the other nodes in the background, so that
// it never blocks on the database.
func (n *notifier) Publish(topic string) {
	n.local.Publish(topic)
	n.mu.Lock()
	n.pending[topic] = struct{}{}
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default: // a send is due already and will take this topic too
	}
}

// Subscribe implements [store.Notifier].
func (n *notifier) Subscribe(topic string) (<-chan struct{}, func()) {
	ch, cancel := n.local.Subscribe(topic)
	n.mu.Lock()
	n.topics[topic]++
	n.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			cancel()
			n.mu.Lock()
			defer n.mu.Unlock()
			if n.topics[topic]--; n.topics[topic] <= 0 {
				delete(n.topics, topic)
			}
		})
	}
}

// payloads returns the notification payloads of topics.
func (n *notifier) payloads(topics []string) []string {
	out := make([]string, len(topics))
	for i, t := range topics {
		out[i] = n.origin + " " + strconv.Quote(t)
	}
	return out
}

// wakeLocal wakes this node's subscribers of topics.
func (n *notifier) wakeLocal(topics []string) {
	for _, t := range topics {
		n.local.Publish(t)
	}
}

// wakeAll wakes every subscriber of this node: the safety net for
// notifications that were lost.
func (n *notifier) wakeAll() {
	n.mu.Lock()
	topics := make([]string, 0, len(n.topics))
	for t := range n.topics {
		topics = append(topics, t)
	}
	n.mu.Unlock()
	n.wakeLocal(topics)
}

// deliver wakes the local subscribers of a notification's topic.
func (n *notifier) deliver(payload string) {
	origin, quoted, ok := strings.Cut(payload, " ")
	if !ok {
		n.log.Debug("postgres: notifier: ignoring a payload that is not culvert's", "payload", payload)
		return
	}
	if origin == n.origin {
		return
	}
	topic, err := strconv.Unquote(quoted)
	if err != nil {
		n.log.Debug("postgres: notifier: ignoring a payload that is not culvert's", "payload", payload)
		return
	}
	n.local.Publish(topic)
}

// listen delivers notifications until ctx ends, reconnecting with backoff
// when the connection drops. After a reconnection it wakes every
// subscriber, since what was published meanwhile is lost.
func (n *notifier) listen(ctx context.Context, conn *pgx.Conn) {
	defer n.wg.Done()
	backoff := minBackoff
	for {
		if conn == nil {
			c, err := n.connect(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				n.log.Warn("postgres: notifier: cannot listen; retrying", "err", err, "in", backoff)
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			n.log.Info("postgres: notifier: listening again")
			conn, backoff = c, minBackoff
			n.wakeAll()
		}
		nt, err := conn.WaitForNotification(ctx)
		if err != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn.Close(cctx)
			cancel()
			conn = nil
			if ctx.Err() != nil {
				return
			}
			n.log.Warn("postgres: notifier: lost the listening connection", "err", err)
			continue
		}
		n.deliver(nt.Payload)
	}
}

// send sends what Publish queued to the other nodes, and wakes every
// local subscriber every wakeEvery, until ctx ends.
func (n *notifier) send(ctx context.Context, wakeEvery time.Duration) {
	defer n.wg.Done()
	tick := time.NewTicker(wakeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), time.Second)
			n.flush(fctx)
			cancel()
			return
		case <-n.kick:
			n.flush(ctx)
		case <-tick.C:
			n.wakeAll()
		}
	}
}

// flush sends the pending topics, in one statement.
func (n *notifier) flush(ctx context.Context) {
	n.mu.Lock()
	topics := make([]string, 0, len(n.pending))
	for t := range n.pending {
		topics = append(topics, t)
	}
	clear(n.pending)
	n.mu.Unlock()
	if len(topics) == 0 {
		return
	}
	if _, err := n.pool.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) p`, channel, n.payloads(topics)); err != nil {
		n.log.Warn("postgres: notifier: cannot notify the other nodes", "err", err, "topics", len(topics))
	}
}

// close stops the listener and the sender, which sends what is pending.
func (n *notifier) close() {
	n.cancel()
	n.wg.Wait()
}
