package dev.ferry.journal;

import java.util.concurrent.atomic.AtomicLong;

import dev.ferry.time.WallClock;

/** A wall clock that stands still until the test moves it, so every time a journal stores is known. Thread-safe. */
public final class ManualWallClock implements WallClock {

    private final AtomicLong now;

    public ManualWallClock(long epochMillis) {
        this.now = new AtomicLong(epochMillis);
    }

    @Override
    public long epochMillis() {
        return now.get();
    }

    public void advance(long millis) {
        now.addAndGet(millis);
    }
}
