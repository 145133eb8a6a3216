package blobxfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/seed-a62fcf0e/longhaul/codec/driver"
)

// Ops are a store's own requests on an existing object, I being what its stat returns,
// for Put and Touch, which run the steps every store shares around them.
type Ops[I any] struct {
	// Stat returns what the store knows of the object name; a missing object is an
	// error wrapping driver.ErrNotFound.
	Stat func(ctx context.Context, name string) (I, error)
	// Info tells an object's size and age (the time its lifecycle clock counts from).
	Info func(info I) driver.Info
	// Refresh restarts the lifecycle clock of an object older than TouchAfter and
	// returns what Touch reports of it then. It counts and logs with Core.Refreshed.
	Refresh func(ctx context.Context, name string, info I) (I, error)
	// Lost, if not nil, reports a write refused because another writer created the
	// object first (a conditional create): the bytes there are the same, by address.
	Lost func(err error) bool
}

// Put stores an object of size bytes under key, as the driver.Store contract says: a
// negative size is refused; an existing object of that size (the key is a content
// address) is only refreshed, write not called; one of another size is damaged, logged
// and replaced; and a write lost to another writer of the same name is not a creation.
// write writes the object name; old is the damaged object it replaces, or nil.
func Put[I any](ctx context.Context, c *Core, ops Ops[I], key string, size int64,
	write func(ctx context.Context, name string, old *I) error) (bool, error) {
	return Do(ctx, c.Location, "put", key, func(name string) (bool, error) {
		if size < 0 {
			return false, driver.Permanent(fmt.Errorf("negative size %d", size))
		}
		info, err := ops.Stat(ctx, name)
		var old *I
		switch {
		case err == nil && ops.Info(info).Size == size:
			_, err := refresh(ctx, c, ops, name, info)
			return false, err
		case err == nil:
			c.Log.LogAttrs(ctx, slog.LevelWarn, c.driver+": replacing "+c.noun+" of wrong size",
				slog.String("store", c.String()), slog.String("key", name),
				slog.Int64("size", ops.Info(info).Size), slog.Int64("want", size))
			old = &info
		case !errors.Is(err, driver.ErrNotFound):
			return false, err
		}
		err = write(ctx, name, old)
		if ops.Lost != nil && ops.Lost(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		c.Stats.Puts.Add(1)
		return true, nil
	})
}

// Touch reports the size and age of the object under key, refreshing it first when it
// is older than TouchAfter. A missing object is driver.ErrNotFound.
func Touch[I any](ctx context.Context, c *Core, ops Ops[I], key string) (driver.Info, error) {
	return Do(ctx, c.Location, "touch", key, func(name string) (driver.Info, error) {
		info, err := ops.Stat(ctx, name)
		if err == nil {
			info, err = refresh(ctx, c, ops, name, info)
		}
		if err != nil {
			return driver.Info{}, err
		}
		return ops.Info(info), nil
	})
}

// refresh counts the age check of an existing object and refreshes it when it is older
// than TouchAfter.
func refresh[I any](ctx context.Context, c *Core, ops Ops[I], name string, info I) (I, error) {
	c.Stats.Touches.Add(1)
	if time.Since(ops.Info(info).ModTime) < c.Opts.TouchAfter {
		return info, nil
	}
	info, err := ops.Refresh(ctx, name, info)
	if err != nil {
		return info, fmt.Errorf("refresh: %w", err)
	}
	return info, nil
}
