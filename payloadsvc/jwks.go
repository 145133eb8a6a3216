package payloadsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"
)

// errUnknownKID is a token whose kid is not among the issuer's keys, even after a
// refresh (or with the refresh rate spent).
var errUnknownKID = errors.New("unknown key id")

// errKeysUnavailable is an issuer whose keys could not be fetched: the service answers
// 503, since the caller is not at fault.
var errKeysUnavailable = errors.New("issuer keys unavailable")

// maxJWKSBytes bounds a JWKS document; real ones are a few KiB.
const maxJWKSBytes = 1 << 20

// jwksFetchTimeout bounds one fetch of the keys.
const jwksFetchTimeout = 10 * time.Second

// keySet is an issuer's JWKS, cached. It is fetched at start, again when a token names
// a kid it lacks (at most once per minRefresh, whatever the tokens say, so a flood of
// made-up kids cannot turn the service against the issuer), and in the background
// when older than maxAge, so removed keys stop verifying.
type keySet struct {
	url     string
	client  *http.Client
	limiter *rate.Limiter
	every   time.Duration // the limiter's interval
	maxAge  time.Duration
	log     *slog.Logger

	mu         sync.Mutex // one fetch at a time
	cur        atomic.Pointer[jwks]
	refreshing atomic.Bool
}

// jwks is one fetched key set.
type jwks struct {
	byKID   map[string][]jose.JSONWebKey
	all     []jose.JSONWebKey
	fetched time.Time
}

func newKeySet(url string, client *http.Client, minRefresh, maxAge time.Duration, log *slog.Logger) *keySet {
	return &keySet{
		url:     url,
		client:  client,
		limiter: rate.NewLimiter(rate.Every(minRefresh), 1),
		every:   minRefresh,
		maxAge:  maxAge,
		log:     log,
	}
}

// find returns the keys that may have signed a token with kid: those with that kid, or
// all of them for a token without one.
func (k *jwks) find(kid string) []jose.JSONWebKey {
	if kid == "" {
		return k.all
	}
	return k.byKID[kid]
}

// candidates returns the keys to try for kid, fetching the set first if it has none
// yet, and again (rate-limited) if kid is unknown.
func (s *keySet) candidates(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	k := s.cur.Load()
	if k == nil {
		s.mu.Lock()
		var err error
		if k = s.cur.Load(); k == nil {
			k, err = s.fetchLocked(ctx)
		}
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
	} else if time.Since(k.fetched) > s.maxAge && s.refreshing.CompareAndSwap(false, true) {
		go s.refreshStale()
	}
	if keys := k.find(kid); len(keys) > 0 {
		return keys, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.cur.Load(); now != k { // someone fetched while we waited
		if keys := now.find(kid); len(keys) > 0 {
			return keys, nil
		}
	}
	if !s.limiter.Allow() {
		return nil, fmt.Errorf("%w (keys were refreshed recently; not again yet)", errUnknownKID)
	}
	k, err := s.fetchLocked(ctx)
	if err != nil {
		return nil, err
	}
	if keys := k.find(kid); len(keys) > 0 {
		return keys, nil
	}
	return nil, errUnknownKID
}

// refreshStale refetches an old key set in the background; on failure the old keys
// stay and the next attempt waits for the refresh rate.
func (s *keySet) refreshStale() {
	defer s.refreshing.Store(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	if time.Since(old.fetched) <= s.maxAge {
		return
	}
	if _, err := s.fetchLocked(context.Background()); err != nil {
		s.log.Warn("payloadsvc: refreshing the issuer's keys failed; keeping the old ones", "error", err)
		retry := *old
		retry.fetched = time.Now().Add(s.every - s.maxAge)
		s.cur.Store(&retry)
	}
}

// fetchLocked fetches and installs the key set; s.mu is held. The request outlives
// the caller's cancellation (other requests wait on it), within jwksFetchTimeout.
func (s *keySet) fetchLocked(ctx context.Context) (*jwks, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksFetchTimeout)
	defer cancel()
	k, err := s.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errKeysUnavailable, s.url, err)
	}
	s.cur.Store(k)
	s.log.Info("payloadsvc: fetched the issuer's keys", "url", s.url, "keys", len(k.all))
	return k, nil
}

func (s *keySet) fetch(ctx context.Context) (*jwks, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("key set is over %d bytes", maxJWKSBytes)
	}
	return s.parse(body)
}

// parse reads a JWKS, keeping the public signing keys it can use and skipping (with a
// log line) the rest: a key of an unknown type must not hide the others.
func (s *keySet) parse(body []byte) (*jwks, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("key set is not a JWKS: %w", err)
	}
	k := &jwks{byKID: map[string][]jose.JSONWebKey{}, fetched: time.Now()}
	for i, raw := range doc.Keys {
		var key jose.JSONWebKey
		if err := json.Unmarshal(raw, &key); err != nil {
			s.log.Warn("payloadsvc: skipping a key the issuer publishes", "index", i, "error", err)
			continue
		}
		if _, symmetric := key.Key.([]byte); symmetric || key.Use == "enc" || !key.Valid() {
			s.log.Warn("payloadsvc: skipping a key the issuer publishes: not a public signing key", "index", i, "kid", key.KeyID)
			continue
		}
		key = key.Public() // a set that leaks private parts still verifies with the public ones
		k.all = append(k.all, key)
		k.byKID[key.KeyID] = append(k.byKID[key.KeyID], key)
	}
	if len(k.all) == 0 {
		return nil, errors.New("key set has no usable signing keys")
	}
	return k, nil
}
