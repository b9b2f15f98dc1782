package org.unetmm;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Completions as {@link CompletableFuture}s, for callers who want them: install as an endpoint's
 * handler ({@code endpoint.onCompletion(futures)}), then {@link #expect} a cookie before the
 * operation that carries it. The future completes on the progress thread with a copy of the
 * completion, failed or not (inspect {@link Completion#status()}). Completions nobody expected
 * are kept for {@link #unexpected()}. Cookies must be unique among operations in flight.
 */
public final class CompletionFutures implements CompletionHandler {
    private final ConcurrentHashMap<Long, CompletableFuture<Completion>> pending = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Completion> unexpected = new ConcurrentLinkedQueue<>();

    /**
     * The future of the operation with {@code cookie}; call before submitting it.
     *
     * @param cookie the cookie the operation will be submitted with
     * @return a future completed with the operation's completion (a copy)
     */
    public CompletableFuture<Completion> expect(long cookie) {
        CompletableFuture<Completion> future = new CompletableFuture<>();
        if (pending.putIfAbsent(cookie, future) != null) {
            throw new IllegalStateException("cookie " + cookie + " is already expected: use a unique cookie per operation in flight");
        }
        return future;
    }

    @Override
    public void onCompletion(Completion completion) {
        CompletableFuture<Completion> future = pending.remove(completion.cookie());
        if (future != null) {
            future.complete(completion.copy());
        } else {
            unexpected.add(completion.copy());
        }
    }

    /** {@return the oldest completion whose cookie no one expected, or null; removed as read} */
    public Completion unexpected() {
        return unexpected.poll();
    }

    /** {@return futures still waiting} */
    public int pending() {
        return pending.size();
    }
}
