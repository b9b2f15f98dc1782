package org.unetmm.nic.shm;

import org.unetmm.internal.BufferPayload;
import org.unetmm.spi.SourceKey;
import org.unetmm.spi.Transport;

/**
 * One peer NIC of a {@link ShmTransport}, as the route its channels hold: the pair's region, the
 * rendezvous this side posted and the peer has not yet read (each a NIC token, by sequence
 * number), the completions this side owes the peer and could not post yet (its completion ring
 * full), and when the peer's heartbeat last moved. Engine thread only.
 */
final class ShmPeer implements Transport.Route {
    /** Rendezvous in flight to one peer; a sender past it is back-pressured. A power of two. */
    static final int MAX_OUTSTANDING = 256;
    private static final long NONE = 0;

    final String address;
    final String name;
    final ShmRegion region;
    final SourceKey sourceKey;
    /**
     * The payload of an inline record, still in the peer's ring: the NIC pulls it into the posted
     * buffer (the inline path's second copy). Bounds were checked when the record was read.
     */
    final BufferPayload inline;
    /**
     * The peer's fixed segments ({@link ShmSegment}) mapped read-only here, as payloads the NIC
     * copies out of, indexed by segment number; mapped when a frame first names one.
     */
    private BufferPayload[] segments = new BufferPayload[0];
    private final long[] seqs = new long[MAX_OUTSTANDING];
    private final long[] tokens = new long[MAX_OUTSTANDING];
    private final boolean[] segmentFrames = new boolean[MAX_OUTSTANDING];
    /** Whether the token {@link #take} last returned was a segment frame's (else a rendezvous's). */
    boolean tookSegmentFrame;
    private long nextSeq = 1;
    private int outstanding;
    private final long[] owedSeqs = new long[MAX_OUTSTANDING];
    private final int[] owedStatus = new int[MAX_OUTSTANDING];
    private int owedHead;
    private int owed;
    int pid;
    long lastBeat = Long.MIN_VALUE;
    long lastBeatChange;
    boolean dead;
    /** Why the peer was taken for gone, for the sends that still name it. */
    String lostWhy;

    ShmPeer(String name, ShmRegion region, long number, long now) {
        this.address = "shm:" + name;
        this.name = name;
        this.region = region;
        this.inline = new BufferPayload(region.in.memory());
        this.sourceKey = new SourceKey(number, 0x73686D /* "shm" */, 0);
        this.lastBeatChange = now;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public SourceKey sourceKey() {
        return sourceKey;
    }

    /** The peer's pid as it announced it; 0 until it attached. */
    int pid() {
        if (pid == 0) {
            pid = region.peerPid();
        }
        return pid;
    }

    /**
     * The peer's segment {@code number}, mapped on first use; null when the peer shared none of
     * that number or it cannot be mapped ({@code why[0]} says which: the frame that named it is
     * dropped).
     */
    BufferPayload segment(int number, ShmDropReason[] why) {
        if (number > 0 && number < segments.length && segments[number] != null) {
            return segments[number];
        }
        java.nio.ByteBuffer mapped = ShmSegment.mapPeer(name, number, region.peerIdentity(), why);
        if (mapped == null) {
            return null;
        }
        if (number >= segments.length) {
            segments = java.util.Arrays.copyOf(segments, Math.max(number + 1, 2 * segments.length));
        }
        return segments[number] = new BufferPayload(mapped);
    }

    /** Drops the peer's segments (it is gone); their files go if their process is gone too. */
    void forgetSegments() {
        segments = new BufferPayload[0];
        ShmSegment.removeDead(name);
    }

    /** Whether both sides may use rendezvous: each announced that cross-memory attach works for it. */
    boolean rendezvousWith(boolean mine) {
        return mine && (region.peerFlags() & ShmRegion.FLAG_RENDEZVOUS) != 0;
    }

    boolean canHold() {
        return seqs[(int) (nextSeq & (MAX_OUTSTANDING - 1))] == NONE;
    }

    /**
     * Keeps {@code token} of a rendezvous or (with {@code segmentFrame}) a segment frame until the
     * peer's completion; returns the sequence number the frame carries.
     */
    long hold(long token, boolean segmentFrame) {
        long seq = nextSeq++;
        int slot = (int) (seq & (MAX_OUTSTANDING - 1));
        seqs[slot] = seq;
        tokens[slot] = token;
        segmentFrames[slot] = segmentFrame;
        outstanding++;
        return seq;
    }

    /** The token of outstanding rendezvous {@code seq}, removed; -1 when none (forged, late or repeated). */
    long take(long seq) {
        int slot = (int) (seq & (MAX_OUTSTANDING - 1));
        if (seq <= 0 || seqs[slot] != seq) {
            return -1;
        }
        seqs[slot] = NONE;
        tookSegmentFrame = segmentFrames[slot];
        outstanding--;
        return tokens[slot];
    }

    int outstanding() {
        return outstanding;
    }

    /** Any outstanding token, removed (to fail it), or -1 when none are left. */
    long takeAny() {
        if (outstanding == 0) {
            return -1;
        }
        for (int slot = 0; slot < MAX_OUTSTANDING; slot++) {
            if (seqs[slot] != NONE) {
                return take(seqs[slot]);
            }
        }
        return -1;
    }

    /** A completion for the peer that its ring had no room for; false when even this queue is full. */
    boolean owe(long seq, int status) {
        if (owed == MAX_OUTSTANDING) {
            return false;
        }
        int at = (owedHead + owed) & (MAX_OUTSTANDING - 1);
        owedSeqs[at] = seq;
        owedStatus[at] = status;
        owed++;
        return true;
    }

    boolean owesCompletions() {
        return owed > 0;
    }

    boolean oweRoom() {
        return owed < MAX_OUTSTANDING;
    }

    /** Posts what is owed, in order, while the peer's completion ring has room. */
    void payOwed() {
        while (owed > 0 && region.out.complete(owedSeqs[owedHead], owedStatus[owedHead])) {
            owedHead = (owedHead + 1) & (MAX_OUTSTANDING - 1);
            owed--;
        }
    }
}
