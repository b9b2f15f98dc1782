package org.unetmm.nic.shm;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.unetmm.ChannelAddress;
import org.unetmm.nic.udp.PeerProcess;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.FrameHeader;

/**
 * A second JVM that plays a hostile peer of the shm wire: it makes a pair region with the test's
 * NIC as a peer would, then writes into its ring random records and crafted ones (lengths past the
 * record, pids that are not its own, addresses outside its memory, pieces that do not add up,
 * completions for nothing), each waiting until the victim consumed it; then one valid inline frame
 * and one valid rendezvous of its own memory, and prints {@code DONE <rendezvous status>}.
 *
 * <p>{@code HostileShmWriter <victim channel address> <seed>}
 */
public final class HostileShmWriter {
    static final int INLINE = 1000;
    static final int RENDEZVOUS = 100_000;

    private HostileShmWriter() {
    }

    static void pattern(ByteBuffer b, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < length; i++) {
            b.put(i, (byte) r.nextInt());
        }
    }

    public static void main(String[] args) throws Exception {
        ChannelAddress victim = ChannelAddress.parse(args[0]);
        long seed = Long.parseLong(args[1]);
        PeerProcess.haltWhenParentGoes();
        int pid = (int) ProcessHandle.current().pid();
        ShmRegion region = pairWith(victim, "hostile-" + pid);
        long beat = 0;
        long deadline;
        FrameRing out = region.out;
        ByteBuffer m = out.memory();
        SplittableRandom random = new SplittableRandom(seed);
        FrameHeader h = dataHeaderTo(victim);
        // random records
        for (int i = 0; i < 200; i++) {
            int length = 8 + random.nextInt(4096);
            int at = out.claim(length);
            for (int b = 0; b < length; b++) {
                m.put(at + b, (byte) random.nextInt());
            }
            if (random.nextBoolean()) {
                beat = publishAndWait(region, out, length, beat); // a plausible length, random contents
            } else {
                if (m.getInt(at + FrameRing.LENGTH_OFFSET) == 0) {
                    m.putInt(at + FrameRing.LENGTH_OFFSET, -1); // a length word of its own, never "not yet written"
                }
                out.appendAsWritten(length);
                beat = tailAndWait(region, out, beat);
            }
        }
        try (NativeBuffer own = NativeMemory.allocate(RENDEZVOUS)) {
            pattern(own.buffer(), RENDEZVOUS, seed + 1);
            // crafted: an inline record shorter than its fragment
            h.messageId = 100;
            h.messageLength = h.fragmentLength = 5000;
            int at = out.claim(ShmFrame.HEADER_LENGTH + 10);
            ShmFrame.encode(m, at, FrameRing.KIND_INLINE, h);
            beat = publishAndWait(region, out, ShmFrame.HEADER_LENGTH + 10, beat);
            // crafted: a tag of 0, a kind of 9
            h.destinationTag = 0;
            beat = inline(region, h, 10, beat);
            h.destinationTag = victim.tag();
            at = out.claim(ShmFrame.HEADER_LENGTH);
            ShmFrame.encode(m, at, 9, h);
            beat = publishAndWait(region, out, ShmFrame.HEADER_LENGTH, beat);
            // crafted rendezvous: a pid not the peer's; an unmapped address; pieces that do not add up; past user space
            h.messageLength = h.fragmentLength = RENDEZVOUS;
            beat = rendezvous(region, h, pid + 1, own.address(), RENDEZVOUS, beat);
            beat = rendezvous(region, h, pid, 4096, RENDEZVOUS, beat);
            beat = rendezvous(region, h, pid, own.address(), RENDEZVOUS - 1, beat);
            beat = rendezvous(region, h, pid, (1L << 48) - 10, RENDEZVOUS, beat);
            // a completion for no rendezvous of the victim's
            region.out.complete(12345, 0);
            // then valid traffic
            h.messageId = 1;
            h.messageLength = h.fragmentLength = INLINE;
            at = out.claim(ShmFrame.HEADER_LENGTH + INLINE);
            ShmFrame.encode(m, at, FrameRing.KIND_INLINE, h);
            ByteBuffer payload = ByteBuffer.allocate(INLINE);
            pattern(payload, INLINE, seed);
            for (int i = 0; i < INLINE; i++) {
                m.put(at + ShmFrame.HEADER_LENGTH + i, payload.get(i));
            }
            beat = publishAndWait(region, out, ShmFrame.HEADER_LENGTH + INLINE, beat);
            h.messageId = 2;
            h.messageLength = h.fragmentLength = RENDEZVOUS;
            beat = rendezvous(region, h, pid, own.address(), RENDEZVOUS, beat);
            long[] completion = new long[2];
            StringBuilder statuses = new StringBuilder();
            deadline = System.nanoTime() + 10_000_000_000L;
            int seen = 0;
            while (seen < 5 && System.nanoTime() - deadline < 0) {
                region.beat(++beat);
                if (region.in.nextCompletion(completion)) {
                    statuses.append(completion[0]).append(':').append(completion[1]).append(',');
                    seen++;
                }
            }
            System.out.println("DONE " + statuses);
            System.out.flush();
            while (true) {
                region.beat(++beat);
                Thread.sleep(1); // a peer that stays alive until the test ends it (not a synchronisation)
            }
        }
    }

    /** Makes the pair region of NIC {@code name} with the victim's NIC, as a peer would, and waits until the victim attached. */
    /** A DATA header from tag 1 of a made-up connection to {@code victim}'s channel: what a hostile writer fills in. */
    static FrameHeader dataHeaderTo(ChannelAddress victim) {
        FrameHeader h = new FrameHeader();
        h.type = FrameHeader.TYPE_DATA;
        h.sourceTag = 1;
        h.destinationTag = victim.tag();
        h.sourceConnection = 0x600D_F00DL;
        h.destinationConnection = victim.connection();
        return h;
    }

    static ShmRegion pairWith(ChannelAddress victim, String name) {
        String victimName = victim.transportAddress().substring("shm:".length());
        ShmRegion region = ShmRegion.openOrCreate(ShmDirectory.pair(name, victimName), ShmDirectory.side(name, victimName),
                ShmConfig.DEFAULT_RING, ShmConfig.COMPLETION_SLOTS, 2_000_000_000L);
        region.announce(ProcessIdentity.self(), true);
        ShmDirectory.announceTo(victimName);
        long beat = 0;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (region.peerPid() == 0 && System.nanoTime() - deadline < 0) {
            region.beat(++beat);
            Thread.onSpinWait();
        }
        return region;
    }

    private static long inline(ShmRegion region, FrameHeader h, int length, long beat) {
        h.messageLength = h.fragmentLength = length;
        int at = region.out.claim(ShmFrame.HEADER_LENGTH + length);
        ShmFrame.encode(region.out.memory(), at, FrameRing.KIND_INLINE, h);
        return publishAndWait(region, region.out, ShmFrame.HEADER_LENGTH + length, beat);
    }

    private static long rendezvous(ShmRegion region, FrameHeader h, int pid, long address, long length, long beat) {
        int record = ShmFrame.rendezvousLength(1);
        ByteBuffer m = region.out.memory();
        int at = region.out.claim(record);
        ShmFrame.encode(m, at, FrameRing.KIND_RENDEZVOUS, h);
        m.putLong(at + ShmFrame.SEQ_OFFSET, h.messageId + 1000);
        m.putInt(at + ShmFrame.PID_OFFSET, pid);
        m.putInt(at + ShmFrame.PIECES_OFFSET, 1);
        m.putLong(at + ShmFrame.PIECE_LIST_OFFSET, address);
        m.putLong(at + ShmFrame.PIECE_LIST_OFFSET + 8, length);
        h.messageId++;
        return publishAndWait(region, region.out, record, beat);
    }

    static long publishAndWait(ShmRegion region, FrameRing out, int length, long beat) {
        out.append(length);
        return tailAndWait(region, out, beat);
    }

    /** Stores the tail and waits (bounded) until the victim has taken or skipped everything up to it. */
    static long tailAndWait(ShmRegion region, FrameRing out, long beat) {
        out.storeTail();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!out.drained() && System.nanoTime() - deadline < 0) {
            region.beat(++beat);
            Thread.onSpinWait();
        }
        return beat;
    }
}
