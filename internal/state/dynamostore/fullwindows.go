package dynamostore

import (
	"strconv"
	"sync"
	"time"
)

// fullWindows remembers the storm windows this process found full: their
// set of itemKeys sent one by one at the threshold. That set only grows, so
// a window once full stays full, and RouteAlert can go straight to the
// digest. A window closed or sent meanwhile refuses the digest write as it
// would have refused the count.
type fullWindows struct {
	mu   sync.Mutex
	ends map[string]time.Time // window key and threshold -> the window's end
}

// fullWindowsKept bounds what is remembered: past it, the windows that have
// ended are forgotten, then all.
const fullWindowsKept = 1024

func fullKey(key string, threshold int) string { return key + "|" + strconv.Itoa(threshold) }

func (f *fullWindows) has(key string, threshold int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.ends[fullKey(key, threshold)]
	return ok
}

func (f *fullWindows) add(key string, threshold int, end time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ends) >= fullWindowsKept {
		now := time.Now()
		for k, e := range f.ends {
			if e.Before(now) {
				delete(f.ends, k)
			}
		}
		if len(f.ends) >= fullWindowsKept {
			clear(f.ends)
		}
	}
	if f.ends == nil {
		f.ends = map[string]time.Time{}
	}
	f.ends[fullKey(key, threshold)] = end
}
