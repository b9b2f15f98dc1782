package org.unetmm.spi;

/**
 * Who sent a frame, as the receiving wire saw it: three words in the wire's own encoding, exact
 * (two keys are equal exactly when the senders' transport addresses are), so the NIC compares a
 * frame's sender with a channel's {@link Transport.Route} without parsing or allocating.
 *
 * <p>Encodings: udp fills it from the {@code struct sockaddr} that {@code recvmsg(2)} reports —
 * word 0 the address family, port and (IPv6) scope id, words 1 and 2 the address (IPv4 in word 1,
 * word 2 zero; IPv6 its sixteen bytes) — and its routes hold the key their peer's frames arrive
 * with; loopback uses the sending NIC's number, unique in the JVM. Zero everywhere means the wire
 * did not say, which matches no route. Mutable and reused, as {@link FrameHeader} is.
 */
public final class SourceKey {
    private long word0;
    private long word1;
    private long word2;

    /** An unset key (all zero): matches nothing until {@link #set}. */
    public SourceKey() {
    }

    /**
     * A key of the three words, in the wire's encoding.
     *
     * @param word0 the first word
     * @param word1 the second word
     * @param word2 the third word
     */
    public SourceKey(long word0, long word1, long word2) {
        set(word0, word1, word2);
    }

    /**
     * Sets the three words, in the wire's encoding.
     *
     * @param w0 the first word
     * @param w1 the second word
     * @param w2 the third word
     * @return this key
     */
    public SourceKey set(long w0, long w1, long w2) {
        word0 = w0;
        word1 = w1;
        word2 = w2;
        return this;
    }

    /**
     * Copies the three words of {@code other}.
     *
     * @param other the key to copy, not null
     * @return this key
     */
    public SourceKey copyFrom(SourceKey other) {
        return set(other.word0, other.word1, other.word2);
    }

    /** Unsets the key (all zero): it matches nothing. */
    public void clear() {
        set(0, 0, 0);
    }

    /**
     * {@return whether both name the same sender; an unset key (all zero) matches nothing}
     *
     * @param other the key to compare with, not null
     */
    public boolean matches(SourceKey other) {
        return word0 == other.word0 && word1 == other.word1 && word2 == other.word2 && (word0 | word1 | word2) != 0;
    }

    /** {@return the first word in the wire's encoding} */
    public long word0() {
        return word0;
    }

    /** {@return the second word in the wire's encoding} */
    public long word1() {
        return word1;
    }

    /** {@return the third word in the wire's encoding} */
    public long word2() {
        return word2;
    }

    @Override
    public String toString() {
        return "SourceKey[" + Long.toHexString(word0) + ":" + Long.toHexString(word1) + ":" + Long.toHexString(word2) + "]";
    }
}
