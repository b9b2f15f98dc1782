package org.unetmm;

import java.nio.ByteBuffer;

/**
 * The end of one operation: a send (its buffer is the caller's again) or a posted receive (its
 * buffer now holds {@link #length()} bytes of a message from {@link #channel()}). Carries the
 * caller's cookie. The completion queue holds reused instances; {@link Endpoint#poll()} hands out
 * a {@link #copy()}, handlers get the reused view.
 */
public final class Completion {
    /** What kind of operation completed. */
    public enum Kind { SEND, RECEIVE }

    Kind kind;
    CompletionStatus status;
    long cookie;
    Channel channel;
    ByteBuffer buffer;
    int offset;
    int length;
    String detail;
    /** The handler an upcall goes to (engine only; null for queued and polled completions). */
    CompletionHandler target;

    Completion() {
    }

    void set(Kind kind, CompletionStatus status, long cookie, Channel channel, ByteBuffer buffer, int offset,
             int length, String detail) {
        this.kind = kind;
        this.status = status;
        this.cookie = cookie;
        this.channel = channel;
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
        this.detail = detail;
    }

    void clear() {
        channel = null;
        buffer = null;
        detail = null;
        target = null;
    }

    public Kind kind() {
        return kind;
    }

    public CompletionStatus status() {
        return status;
    }

    public boolean isSuccess() {
        return status == CompletionStatus.OK;
    }

    public long cookie() {
        return cookie;
    }

    /** The channel the message travelled on (null for a receive that failed before any arrived). */
    public Channel channel() {
        return channel;
    }

    /** The send's first buffer, or the receive's posted buffer. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** Offset in {@link #buffer()} where the operation's bytes start. */
    public int offset() {
        return offset;
    }

    /** Bytes sent, or bytes written into the posted buffer. */
    public int length() {
        return length;
    }

    /** Why it failed, in words (null on success). */
    public String detail() {
        return detail;
    }

    public Completion copy() {
        Completion copy = new Completion();
        copy.set(kind, status, cookie, channel, buffer, offset, length, detail);
        return copy;
    }

    @Override
    public String toString() {
        return kind + " " + status + " cookie=" + cookie + " length=" + length + (detail == null ? "" : " (" + detail + ")");
    }
}
