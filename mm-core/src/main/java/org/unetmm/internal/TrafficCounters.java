package org.unetmm.internal;

/** The NIC's message, byte and fragment counts: written by the engine, read by {@code Nic.stats()} from anywhere. */
public final class TrafficCounters {
    private static final int MESSAGES_SENT = 0;
    private static final int BYTES_SENT = 1;
    private static final int FRAGMENTS_SENT = 2;
    private static final int MESSAGES_RECEIVED = 3;
    private static final int BYTES_RECEIVED = 4;
    private static final int BACK_PRESSURED = 5;
    private final Counters counters = new Counters(6);

    public void messageSent(int length) {
        counters.increment(MESSAGES_SENT);
        counters.add(BYTES_SENT, length);
    }

    public void fragmentSent() {
        counters.increment(FRAGMENTS_SENT);
    }

    public void countBackPressure() {
        counters.increment(BACK_PRESSURED);
    }

    public void messageReceived(int length) {
        counters.increment(MESSAGES_RECEIVED);
        counters.add(BYTES_RECEIVED, length);
    }

    public long messagesSent() {
        return counters.get(MESSAGES_SENT);
    }

    public long bytesSent() {
        return counters.get(BYTES_SENT);
    }

    public long fragmentsSent() {
        return counters.get(FRAGMENTS_SENT);
    }

    public long messagesReceived() {
        return counters.get(MESSAGES_RECEIVED);
    }

    public long bytesReceived() {
        return counters.get(BYTES_RECEIVED);
    }

    public long backPressured() {
        return counters.get(BACK_PRESSURED);
    }
}
