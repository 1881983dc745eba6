package main

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progressBar draws "rows read, records written" on stderr when stderr is a
// terminal, at most ten times a second; otherwise it does nothing. Its update
// is called from the reading and the writing goroutines.
type progressBar struct {
	a       *App
	size    int64
	read    *atomic.Int64
	mu      sync.Mutex
	rows    int
	written int
	last    time.Time
	drawn   bool
}

func (a *App) progress(size int64, read *atomic.Int64) *progressBar {
	if !a.ErrTTY {
		return nil
	}
	return &progressBar{a: a, size: size, read: read}
}

func (p *progressBar) update(rows, written int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows = max(p.rows, rows)
	if written >= 0 {
		p.written = written
	}
	if now := p.a.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
}

func (p *progressBar) draw() {
	const width = 30
	bar := ""
	if p.size > 0 {
		frac := min(float64(p.read.Load())/float64(p.size), 1)
		n := int(frac * width)
		bar = fmt.Sprintf("[%s%s] %3d%% ", strings.Repeat("#", n), strings.Repeat(".", width-n), int(frac*100))
	}
	fmt.Fprintf(p.a.Err, "\r%s%d rows read, %d records sealed and written ", bar, p.rows, p.written)
	p.drawn = true
}

// hold clears the line and runs fn with the bar stopped: a question asked
// in the middle of an import, which the bar must not draw over.
func (p *progressBar) hold(fn func() error) error {
	if p == nil {
		return fn()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.a.Err, "\r\033[K")
		p.drawn = false
	}
	return fn()
}

// done clears the line.
func (p *progressBar) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.a.Err, "\r\033[K")
	}
}
