package org.unetmm;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a NIC reports what a return value cannot: a completion handler that threw
 * ({@link CompletionHandlerException}), or a fault in the engine's own loop. The engine goes on
 * after every report; an error handler that throws is itself counted and ignored. Set with
 * {@link NicConfig.Builder#errorHandler}, as Aeron's {@code ErrorHandler}.
 */
@FunctionalInterface
public interface ErrorHandler {
    /**
     * Called on the thread that drives progress, without allocation on the NIC's part beyond the error itself.
     *
     * @param error what a handler threw, or the engine's fault
     */
    void onError(Throwable error);

    /**
     * The default: logs through SLF4J (logger {@code org.unetmm.Nic}) — the first error with its
     * stack trace, then at most one line a second that counts those not shown, so a handler that
     * throws on every message does not turn into a log line per message.
     *
     * @return a new handler, with its own rate limit
     */
    static ErrorHandler logging() {
        return new ErrorHandler() {
            private final Logger log = LoggerFactory.getLogger(Nic.class);
            private long nextLine = System.nanoTime();
            private long suppressed;

            @Override
            public synchronized void onError(Throwable error) {
                long now = System.nanoTime();
                if (now - nextLine < 0) {
                    suppressed++;
                    return;
                }
                nextLine = now + 1_000_000_000L;
                if (suppressed == 0) {
                    log.error("{}", error.getMessage(), error);
                } else {
                    log.error("{} ({} more errors in the last second not shown)", error.getMessage(), suppressed);
                }
                suppressed = 0;
            }
        };
    }
}
