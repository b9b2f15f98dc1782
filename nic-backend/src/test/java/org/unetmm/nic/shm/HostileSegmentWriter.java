package org.unetmm.nic.shm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.unetmm.ChannelAddress;
import org.unetmm.nic.udp.PeerProcess;
import org.unetmm.spi.FrameHeader;

/**
 * A second JVM that plays a hostile peer of the shm wire's fixed-segment path: it pairs with the
 * test's NIC ({@link HostileShmWriter#pairWith}), shares a segment of its own ({@link ShmSegment},
 * number 1, {@link #SEGMENT} bytes of a pattern), and beside it a segment file others may read
 * (number 2, mode 0644) and one whose header names another process (number 3). Then it writes
 * segment frames naming segments that are not shared (0, 99, 2, 3: {@link #UNKNOWN} of them) and
 * bytes outside segment 1 (offset -1, one byte past the end, Long.MAX_VALUE, 2^40: {@link #OUTSIDE}),
 * each waiting until the victim consumed it, then one valid frame of {@link #VALID} bytes at
 * {@link #VALID_AT}, and prints {@code READY <its NIC name> <seq:status,...>} of the victim's completions.
 *
 * <p>{@code HostileSegmentWriter <victim channel address> <seed>}
 */
public final class HostileSegmentWriter {
    private static final java.util.regex.Pattern FILE = java.util.regex.Pattern.compile("unetmm-hostseg-(\\d+)@\\d+\\.seg");

    /**
     * Removes the files a hostile writer that is no longer running left under /dev/shm: the 0644
     * one no NIC sweeps (it is not a unetmm file of this user's), and any other a failed test left.
     */
    static void removeLeftovers() throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> files = Files.list(java.nio.file.Path.of("/dev/shm"))) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files::iterator) {
                java.util.regex.Matcher m = FILE.matcher(f.getFileName().toString());
                if (m.matches() && !ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    static final int SEGMENT = 65_536;
    static final int VALID = 5000;
    static final int VALID_AT = 128;
    static final int UNKNOWN = 4;
    static final int OUTSIDE = 4;

    private HostileSegmentWriter() {
    }

    public static void main(String[] args) throws Exception {
        ChannelAddress victim = ChannelAddress.parse(args[0]);
        long seed = Long.parseLong(args[1]);
        PeerProcess.haltWhenParentGoes();
        int pid = (int) ProcessHandle.current().pid();
        String name = "hostseg-" + pid;
        ShmRegion region = HostileShmWriter.pairWith(victim, name);
        ShmSegment own = ShmSegment.create(name, 1, SEGMENT, ProcessIdentity.self());
        HostileShmWriter.pattern(own.memory.buffer(), SEGMENT, seed);
        ShmSegment readable = ShmSegment.create(name, 2, SEGMENT, ProcessIdentity.self());
        Files.setPosixFilePermissions(readable.path, PosixFilePermissions.fromString("rw-r--r--"));
        ShmSegment forged = ShmSegment.create(name, 3, SEGMENT, ProcessIdentity.self());
        try (FileChannel file = FileChannel.open(forged.path, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, pid + 1), ShmSegment.PID_OFFSET);
        }
        FrameHeader h = HostileShmWriter.dataHeaderTo(victim);
        h.messageLength = h.fragmentLength = VALID;
        h.messageId = 100;
        long beat = 0;
        for (int number : new int[] {0, 99, 2, 3}) {
            beat = segmentFrame(region, h, number, VALID_AT, beat);
        }
        for (long offset : new long[] {-1, SEGMENT - VALID + 1, Long.MAX_VALUE, 1L << 40}) {
            beat = segmentFrame(region, h, 1, offset, beat);
        }
        h.messageId = 1;
        beat = segmentFrame(region, h, 1, VALID_AT, beat);
        long[] completion = new long[2];
        StringBuilder statuses = new StringBuilder();
        long deadline = System.nanoTime() + 10_000_000_000L;
        int seen = 0;
        while (seen < UNKNOWN + OUTSIDE + 1 && System.nanoTime() - deadline < 0) {
            region.beat(++beat);
            if (region.in.nextCompletion(completion)) {
                statuses.append(completion[0]).append(':').append(completion[1]).append(',');
                seen++;
            }
        }
        System.out.println("READY " + name + " " + statuses);
        System.out.flush();
        while (true) {
            region.beat(++beat);
            Thread.sleep(1); // a peer that stays alive until the test ends it (not a synchronisation)
        }
    }

    private static long segmentFrame(ShmRegion region, FrameHeader h, int number, long offset, long beat) {
        ByteBuffer m = region.out.memory();
        int at = region.out.claim(ShmFrame.SEGMENT_RECORD_LENGTH);
        ShmFrame.encode(m, at, FrameRing.KIND_SEGMENT, h);
        m.putLong(at + ShmFrame.SEQ_OFFSET, h.messageId + 1000);
        m.putInt(at + ShmFrame.SEGMENT_NUMBER_OFFSET, number);
        m.putLong(at + ShmFrame.SEGMENT_PAYLOAD_OFFSET, offset);
        h.messageId++;
        return HostileShmWriter.publishAndWait(region, region.out, ShmFrame.SEGMENT_RECORD_LENGTH, beat);
    }
}
