package org.unetmm.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.nic.shm.ShmConfig;
import org.unetmm.tlb.TlbConfig;

/**
 * The measurement behind {@code unetmm compare --transport shm:[name][?options]}: across two
 * processes of this host, this JVM sending and a second JVM it starts ({@link ChildJvm},
 * {@link CrossProcessChild}) receiving, per message size, side by side in one run:
 *
 * <ul>
 *   <li>{@code PINNED} and {@code FIXED_SEGMENT}: unetmm over the shm wire ({@code shm:name} here,
 *       {@code shm:name-rx} there, the options of the URI on both), large pinned fragments read
 *       by the receiver with {@code process_vm_readv} — one copy — the fixed segment copied twice;</li>
 *   <li>{@code AERON_IPC}: Aeron IPC between the same two processes, the media driver embedded
 *       here and the receiver its client ({@link CrossProcessAeronPeer}); two copies;</li>
 *   <li>{@code UDP_PINNED}: unetmm's pinned path over the udp wire on 127.0.0.1 between the same
 *       two processes, the kernel's two copies: the reference the shm wire is to beat;</li>
 *   <li>{@code MEMCPY}: one copy of the same bytes in this process, the limit (the target
 *       is against it), and {@code WORKING_SET_MEMCPY} ({@link WorkingSetMemcpyPeer}): one copy
 *       cycling through the pinned stream's own sources and posted buffers, the limit a single
 *       copy out of cache sets; PINNED and FIXED_SEGMENT ÷ it, per repeat, go into the notes.</li>
 * </ul>
 *
 * The sweep, its interleaved repeats and its summary are {@link CompareUdpRun}'s: per repeat a
 * ping-pong (latency: half its round trip) and a one-way stream under flow control whose
 * throughput is what the receiver acknowledged over the wire being measured. The receiving JVM
 * is started once for the run and ends with it; a receiver that dies fails the run with one line
 * naming it.
 */
final class ShmCompareRun {
    static final String SCHEME = "shm:";
    /** The suffix of the receiving NIC's name. */
    static final String RECEIVER = "-rx";
    private static final String UDP = "udp://127.0.0.1:0";

    private final CompareRun.Settings settings;
    private final Consumer<String> progress;
    private final List<String> notes;
    private final List<ComparePoint.Repeat> samples;

    ShmCompareRun(CompareRun.Settings settings, Consumer<String> progress, List<String> notes, List<ComparePoint.Repeat> samples) {
        this.settings = settings;
        this.progress = progress;
        this.notes = notes;
        this.samples = samples;
    }

    static boolean isShm(String transport) {
        return transport.startsWith(SCHEME);
    }

    /** What is wrong with {@code transport} for this run, naming the fix; null when it is usable. */
    static String problem(String transport) {
        try {
            ShmConfig config = ShmConfig.parse(transport);
            new ShmConfig(config.name() + RECEIVER, config.eagerBytes(), config.ringBytes(), config.peerTimeoutMillis(),
                    config.crossMemoryAttach(), config.pollMessages());
            return null;
        } catch (IllegalArgumentException e) {
            return "'" + transport + "': " + e.getMessage() + " (the receiving NIC is named <name>" + RECEIVER + ")";
        }
    }

    /** The shm name of this run's sending NIC: the URI's, or one drawn for it. */
    static String senderUri(String transport) {
        ShmConfig config = ShmConfig.parse(transport);
        return SCHEME + config.name() + options(transport);
    }

    private static String options(String transport) {
        int q = transport.indexOf('?');
        return q < 0 ? "" : transport.substring(q);
    }

    List<ComparePoint> run() {
        String sender = senderUri(settings.transport());
        String name = ShmConfig.parse(sender).name();
        String receiver = SCHEME + name + RECEIVER + options(settings.transport());
        TlbConfig tlb = new TlbConfig(settings.tlbSets(), settings.tlbWays(), settings.policy(), settings.seed());
        ChildJvm child = ChildJvm.start(CrossProcessChild.class, lifetime());
        try {
            progress.accept("receiving JVM: pid " + child.pid() + " (" + sender + " here, " + receiver + " there)");
            CrossProcessPeer pinned = new CrossProcessPeer("shm pinned", SendPath.PINNED, sender, receiver, tlb, child);
            CrossProcessPeer fixed = new CrossProcessPeer("shm fixed", SendPath.FIXED_SEGMENT, sender, receiver, tlb, child);
            List<CompareUdpRun.Row> rows = new ArrayList<>(List.of(new CompareUdpRun.Row(SendPath.PINNED.name(), pinned),
                    new CompareUdpRun.Row(SendPath.FIXED_SEGMENT.name(), fixed)));
            WorkingSetMemcpyPeer workingSet = new WorkingSetMemcpyPeer(pinned);
            rows.add(new CompareUdpRun.Row(WorkingSetMemcpyPeer.ROW, workingSet));
            if (settings.aeron()) {
                rows.add(new CompareUdpRun.Row("AERON_IPC", new CrossProcessAeronPeer(child)));
            }
            rows.add(new CompareUdpRun.Row("UDP_PINNED", new CrossProcessPeer("udp pinned", SendPath.PINNED, UDP, UDP, tlb, child)));
            List<ComparePoint> points = new CompareUdpRun(settings, progress, notes, samples, rows).run();
            notes.add("across two processes: this JVM sends, the receiving JVM (pid " + child.pid() + ") receives and"
                    + " acknowledges; TLB and pins are the sender's; UDP_PINNED is the pinned path over " + UDP);
            notes.add("shm stream window: up to " + (ShmStreamPlan.WANTED_BYTES >> 20) + " MiB (at most "
                    + UdpPeer.Window.MESSAGES + " messages, " + UdpPeer.Window.MOST_MESSAGES + " of 64 B) in flight,"
                    + " planned against both processes' pin budgets;"
                    + " the receiver posts two buffers per message in flight");
            for (int size : settings.sizes()) {
                ShmStreamPlan plan = workingSet.plan(size);
                notes.add(WorkingSetMemcpyPeer.ROW + " at " + ByteSize.human(size) + ": one copy cycling through "
                        + plan.messages() + " sources and " + plan.receiveBuffers() + " destinations ("
                        + ByteSize.human((long) (plan.messages() + plan.receiveBuffers()) * Math.max(1, size))
                        + "), the pinned stream's working set; " + ratioNote(SendPath.PINNED.name(), size) + ", "
                        + ratioNote(SendPath.FIXED_SEGMENT.name(), size));
            }
            pinned.planNotes().forEach(n -> notes.add("shm pinned " + n));
            fixed.planNotes().forEach(n -> notes.add("shm fixed " + n));
            return points;
        } finally {
            child.close();
            if (!child.endedCleanly()) {
                removeStale();
            }
        }
    }

    /**
     * {@code path} ÷ {@code WORKING_SET_MEMCPY} at {@code size}, taken per repeat (the two rows of one
     * repeat index are measured a few seconds apart, interleaved as every row is): median [min–max].
     */
    String ratioNote(String path, int size) {
        List<Double> ratios = new ArrayList<>();
        for (ComparePoint.Repeat r : samples) {
            if (r.path().equals(path) && r.size() == size) {
                for (ComparePoint.Repeat w : samples) {
                    if (w.path().equals(WorkingSetMemcpyPeer.ROW) && w.size() == size && w.index() == r.index()) {
                        ratios.add(r.gigabytesPerSecond() / w.gigabytesPerSecond());
                    }
                }
            }
        }
        ComparePoint.Spread s = ComparePoint.Spread.of(ratios.stream().mapToDouble(Double::doubleValue).toArray());
        return String.format(java.util.Locale.ROOT, "%s ÷ it %.3f [%.3f–%.3f] over %d repeats", path, s.median(), s.min(), s.max(),
                ratios.size());
    }

    /**
     * Removes what a receiver that did not close its NIC (killed) left under /dev/shm, its home and
     * its pair regions: an shm NIC sweeps stale files when it opens, so one is opened and closed.
     */
    private static void removeStale() {
        Nic.open(NicConfig.builder().transport(SCHEME).progressMode(ProgressMode.CALLER).build()).close();
    }

    /**
     * The receiving JVM's lifetime: three times what the sweep should take (each repeat a ping-pong
     * and a stream, each with its warm-up, and a second to open), and two minutes more.
     */
    private Duration lifetime() {
        long perRepeat = 2 * (settings.warmupMillis() + settings.measureMillis()) + 1000;
        long repeats = (long) settings.sizes().size() * settings.repeats() * 5 + 10;
        return Duration.ofMillis(120_000 + 3 * perRepeat * repeats);
    }
}
