package org.unetmm.nic.shm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.SendPath;
import org.unetmm.nic.udp.EchoExchange;
import org.unetmm.nic.udp.PeerProcess;
import org.unetmm.nic.udp.UdpEchoPeer;
import org.unetmm.pinning.ChildResult;
import org.unetmm.pinning.LockedMemory;
import org.unetmm.pinning.ProcessStatus;

/**
 * The child JVM of {@link ShmAsAnotherUserTest}, run as uid 65534 without CAP_IPC_LOCK under
 * RLIMIT_MEMLOCK (by {@link org.unetmm.pinning.UnprivilegedJvm}):
 *
 * <ul>
 *   <li>{@code open <name>}: opens a NIC named {@code shm:<name>};</li>
 *   <li>{@code route <name>}: opens a fresh NIC and connects a channel to {@code shm:<name>/1};</li>
 *   <li>{@code hold <name> <release file> <seconds>}: holds a NIC named {@code shm:<name>} until the
 *       release file appears (the parent tries to reach it meanwhile), at most the seconds;</li>
 *   <li>{@code echo <cma> <max message> <limit>}: opens {@code shm:<fresh>[?cma=false]}, starts a
 *       second JVM ({@link UdpEchoPeer}, so also uid 65534 under the same limit) on
 *       {@code shm:[?cma=false]}, and echoes messages of many sizes through it on both paths,
 *       byte-exact, watching both processes' VmLck.</li>
 * </ul>
 *
 * A refusal by the shm wire ({@link ShmException}) prints {@code REFUSED <message>} and exits
 * {@value #REFUSED}; {@code RESULT OK ...} exits 0; anything else {@code RESULT FAIL} and 1.
 */
public final class ShmAsNobodyChild {
    static final int REFUSED = 3;
    /** Inline and rendezvous sizes, around the eager threshold and the mtu (256 KiB), up to 2 MiB. */
    static final int[] SIZES = {0, 1, 4096, 16_384, 16_385, 65_536, 262_143, 262_144, 262_145, 1 << 20, 2 * (1 << 20) + 17};
    /**
     * The largest message. {@link UdpEchoPeer} pins a fixed segment of twice this at creation and a
     * posted buffer of it per receive: 3 x 2 MiB stays under 8 MiB of RLIMIT_MEMLOCK (3 x 3 MiB
     * does not: the peer's claim fails PIN_FAILED and the echo never comes).
     */
    static final int MAX_MESSAGE = 2 * (1 << 20) + 4096;

    private ShmAsNobodyChild() {
    }

    public static void main(String[] args) {
        ChildResult.report(() -> {
            try {
                return switch (args[0]) {
                    case "open" -> open(args[1]);
                    case "route" -> route(args[1]);
                    case "hold" -> hold(args[1], Path.of(args[2]), Long.parseLong(args[3]));
                    case "echo" -> echo(Boolean.parseBoolean(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3]));
                    default -> throw new IllegalArgumentException("unknown mode " + args[0]);
                };
            } catch (ShmException e) {
                System.out.println("REFUSED " + e.getMessage());
                System.out.flush();
                System.exit(REFUSED);
                throw e;
            }
        });
    }

    private static String open(String name) {
        try (Nic nic = ShmPairInOneJvmTest.open("shm:" + name)) {
            return "opened " + nic.transportAddress();
        }
    }

    private static String route(String name) {
        try (Nic nic = ShmPairInOneJvmTest.open("shm:")) {
            nic.openEndpoint().openChannel().connect(ChannelAddress.parse("shm:" + name + "/1"));
            return "connected to shm:" + name;
        }
    }

    private static String hold(String name, Path release, long seconds) {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        try (Nic nic = ShmPairInOneJvmTest.open("shm:" + name);
             java.nio.file.WatchService watch = release.getFileSystem().newWatchService()) {
            // registered before the first look: the parent's create is not missed between look and wait
            release.toAbsolutePath().getParent().register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE);
            while (!Files.exists(release)) {
                nic.progress(); // the NIC's heartbeat goes on while it waits for the parent's file
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("not released within " + seconds + " s");
                }
                java.nio.file.WatchKey key = watch.poll(1, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
            return "held " + nic.transportAddress() + " peers=" + ShmTransport.of(nic).stats().peers();
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException("waiting for " + release + ": " + e, e);
        }
    }

    private static String echo(boolean cma, int maxMessage, long limit) throws Exception {
        check(!ProcessStatus.hasCapIpcLock(), "the child holds CAP_IPC_LOCK");
        check(LockedMemory.process().limitBytes() == limit, "process limit " + LockedMemory.process());
        String options = cma ? "" : "?cma=false";
        long seed = 0x5EED_0065_534L;
        long peak = 0;
        long peerPeak = 0;
        long peerPid = -1;
        try (Nic nic = ShmPairInOneJvmTest.open("shm:" + ShmPairInOneJvmTest.fresh("nobody") + options)) {
            ShmTransport wire = ShmTransport.of(nic);
            check(wire.rendezvousEnabled() == cma, "rendezvous " + wire.rendezvousEnabled() + ": "
                    + wire.crossMemoryAttachDescription());
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(maxMessage + 4096).build());
            Channel pinned = endpoint.openChannel();
            Channel fixed = endpoint.openChannel();
            try (EchoExchange exchange = new EchoExchange(endpoint, maxMessage);
                 PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, "shm:" + options,
                         pinned.address().toString(), fixed.address().toString(), "90", String.valueOf(maxMessage))) {
                String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                pinned.connect(ChannelAddress.parse(ready[0]));
                fixed.connect(ChannelAddress.parse(ready[1]));
                peerPid = ProcessHandle.current().children().filter(ProcessHandle::isAlive).findFirst()
                        .orElseThrow(() -> new AssertionError("the peer JVM is not a child")).pid();
                for (int size : SIZES) {
                    if (size > maxMessage) {
                        continue;
                    }
                    for (SendPath path : SendPath.values()) {
                        exchange.roundTrip(path == SendPath.PINNED ? pinned : fixed, path, size, seed + size,
                                Duration.ofSeconds(10), 1);
                        peak = Math.max(peak, ProcessStatus.vmLckBytes());
                        peerPeak = Math.max(peerPeak, vmLck(peerPid));
                    }
                }
                check(peer.isAlive(), "the peer died; its stderr: " + peer.stderr());
                check(peak <= limit && peerPeak <= limit, "VmLck " + peak + " / peer " + peerPeak + " past " + limit);
                ShmStats stats = wire.stats();
                check(stats.dropped() == 0, "drops " + stats.drops());
                check(exchange.retries == 0, "retries " + exchange.retries);
                endpoint.close();
                return "echo cma=" + cma + " path=" + (stats.rendezvousSent() > 0 ? "rendezvous" : "inline")
                        + " sizes=" + SIZES.length + " max=" + maxMessage
                        + " inlineSent=" + stats.inlineSent() + " rendezvousSent=" + stats.rendezvousSent()
                        + " rendezvousCompleted=" + stats.rendezvousCompleted() + " inlineReceived=" + stats.inlineReceived()
                        + " rendezvousRead=" + stats.rendezvousRead() + " vmLckPeak=" + peak + " peerVmLckPeak=" + peerPeak
                        + " limit=" + limit + " mtu=" + stats.mtu() + " probe=[" + wire.crossMemoryAttachDescription() + "]";
            }
        } finally {
            // the peer was killed (PeerProcess.close): its home is stale, and only its user may remove it
            ShmDirectory.removeStale();
            check(peerPid < 0 || !Files.exists(ShmDirectory.home("c" + peerPid + "-1")), "the killed peer's home is left");
        }
    }

    /** VmLck of another process of this user, from /proc/PID/status; 0 once it is gone. */
    private static long vmLck(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmLck:")) {
                    return Long.parseLong(line.substring("VmLck:".length()).replace("kB", "").trim()) * 1024;
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }
}
