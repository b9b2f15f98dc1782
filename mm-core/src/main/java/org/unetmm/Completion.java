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
    public enum Kind {
        /** A send: its buffers are the caller's again. */
        SEND,
        /** A posted receive: its buffer holds the message, or what arrived of it. */
        RECEIVE
    }

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

    /** {@return whether a send or a receive completed} */
    public Kind kind() {
        return kind;
    }

    /** {@return how the operation ended} */
    public CompletionStatus status() {
        return status;
    }

    /** {@return whether {@link #status()} is {@link CompletionStatus#OK}} */
    public boolean isSuccess() {
        return status == CompletionStatus.OK;
    }

    /** {@return the cookie the caller gave the operation} */
    public long cookie() {
        return cookie;
    }

    /** {@return the channel the message travelled on (null for a receive that failed before any arrived)} */
    public Channel channel() {
        return channel;
    }

    /** {@return the send's first buffer, or the receive's posted buffer; the caller's again} */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** {@return the offset in {@link #buffer()} where the operation's bytes start} */
    public int offset() {
        return offset;
    }

    /** {@return bytes sent, or bytes written into the posted buffer} */
    public int length() {
        return length;
    }

    /** {@return why it failed, in words (null on success)} */
    public String detail() {
        return detail;
    }

    /** {@return a copy that stays valid after the call it was handed to returns} */
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
