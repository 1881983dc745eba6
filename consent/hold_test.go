package consent

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

func validHold() Hold {
	return Hold{
		Record: "rec7f3a",
		Reason: "Pending claim Thistlewood v. Salon",
		By:     "Ottoline Prewitt",
		At:     now.Add(-48 * time.Hour),
		Review: records.DateOf(now).AddYears(1),
	}
}

func TestHoldValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Hold)
		want   []string
	}{
		{"valid", func(*Hold) {}, nil},
		{"review on the day placed", func(h *Hold) { h.Review = records.DateOf(h.At) }, nil},
		{"review overdue", func(h *Hold) { h.Review = records.DateOf(now.AddDate(0, 0, -1)) }, nil},
		{"released", func(h *Hold) { h.ReleasedAt, h.ReleasedBy = now, "Ottoline Prewitt" }, nil},
		{"no record", func(h *Hold) { h.Record = "" }, []string{"record"}},
		{"no reason", func(h *Hold) { h.Reason = " " }, []string{"reason"}},
		{"no by", func(h *Hold) { h.By = "" }, []string{"by"}},
		{"no at", func(h *Hold) { h.At = time.Time{} }, []string{"at"}},
		{"at in the future", func(h *Hold) { h.At = now.Add(time.Minute) }, []string{"at"}},
		{"no review", func(h *Hold) { h.Review = records.Date{} }, []string{"review"}},
		{"review before placed", func(h *Hold) { h.Review = records.DateOf(h.At).AddYears(-1) }, []string{"review"}},
		{"released_by without released_at", func(h *Hold) { h.ReleasedBy = "Ottoline Prewitt" }, []string{"released_by"}},
		{"released_at without released_by", func(h *Hold) { h.ReleasedAt = now }, []string{"released_by"}},
		{"released before placed", func(h *Hold) {
			h.ReleasedAt, h.ReleasedBy = h.At.Add(-time.Hour), "Ottoline Prewitt"
		}, []string{"released_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := validHold()
			tt.change(&h)
			values := []string{h.Record, h.Reason, h.By, h.ReleasedBy}
			err := h.Validate(now)
			if got := fields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("Validate: fields %q, want %q (error: %v)", got, tt.want, err)
			}
			noValues(t, err, values...)
		})
	}
}

func TestHoldRelease(t *testing.T) {
	h := validHold()
	h.Review = records.DateOf(now.AddDate(0, 0, -30)) // overdue review does not release
	if !h.Active() || !Held([]Hold{h}) {
		t.Fatal("a new hold is not active")
	}
	if err := h.Release(now, ""); err == nil || !h.Active() {
		t.Fatal("Release with no name succeeded")
	}
	if err := h.Release(h.At.Add(-time.Second), "Ottoline Prewitt"); err == nil || !h.Active() {
		t.Fatal("Release before the hold was placed succeeded")
	}
	if err := h.Release(now, "Ottoline Prewitt"); err != nil {
		t.Fatal(err)
	}
	if h.Active() || Held([]Hold{h}) {
		t.Error("a released hold is active")
	}
	if !h.ReleasedAt.Equal(now) || h.ReleasedBy != "Ottoline Prewitt" || h.Reason == "" {
		t.Errorf("released at %v by %q, reason kept %v", h.ReleasedAt, h.ReleasedBy, h.Reason != "")
	}
	if err := h.Release(now.Add(time.Hour), "Wilhelmina Stroud"); !errors.Is(err, ErrReleased) {
		t.Errorf("second Release: %v, want ErrReleased", err)
	}
	if h.ReleasedBy != "Ottoline Prewitt" {
		t.Error("a second Release overwrote the first")
	}
	if !Held([]Hold{h, validHold()}) {
		t.Error("Held ignores a standing hold after a released one")
	}
	if Held(nil) {
		t.Error("no holds is held")
	}
}
