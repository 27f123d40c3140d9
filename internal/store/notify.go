package store

import "sync"

// LocalNotifier is an in-process [Notifier], enough when every poller lives
// in the same process as every writer.
type LocalNotifier struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// NewLocalNotifier returns an empty LocalNotifier.
func NewLocalNotifier() *LocalNotifier {
	return &LocalNotifier{subs: map[string]map[chan struct{}]struct{}{}}
}

// Publish implements [Notifier].
func (n *LocalNotifier) Publish(topic string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs[topic] {
		select {
		case ch <- struct{}{}:
		default: // already signalled; the waiter will look again anyway
		}
	}
}

// Subscribers returns how many subscriptions to topic are open: whether a
// poller waits on a worker group, for metrics and for tests that must know
// a waiter is in place before they publish.
func (n *LocalNotifier) Subscribers(topic string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs[topic])
}

// Subscribe implements [Notifier].
func (n *LocalNotifier) Subscribe(topic string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	m := n.subs[topic]
	if m == nil {
		m = map[chan struct{}]struct{}{}
		n.subs[topic] = m
	}
	m[ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		delete(n.subs[topic], ch)
		if len(n.subs[topic]) == 0 {
			delete(n.subs, topic)
		}
	}
}
