package org.unetmm.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.unetmm.EndpointConfig;
import org.unetmm.NicConfig;
import org.unetmm.nic.shm.ShmTransport;
import org.unetmm.nic.udp.UdpTransport;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.pinning.internal.Libc;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What this machine and this process allow, before a measurement: locked-memory limits and what
 * they make of the default pin budget, cores and load, processes busy enough to share a core with
 * a measurement, socket buffer limits, which wires work, the defaults. Each thing that will distort
 * a measurement or fail a default gets a line starting with {@code warning:}.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "What this machine allows: RLIMIT_MEMLOCK and the pin budget, cores, load, busy processes,"
                + " socket buffers, usable wires, defaults; a warning line for each thing that will distort a"
                + " measurement or fail a default.",
        footer = {"", "Examples:", "  unetmm info", "  unetmm info --sample-ms 1000   (a longer look for busy processes)"})
public final class InfoCommand implements Callable<Integer> {
    private static final long MIB = 1 << 20;
    private static final long WANT_SOCKET_BUFFER = 4 * MIB;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** How long {@link #warnings} watches for busy processes. */
    static final long DEFAULT_SAMPLE_MILLIS = 300;

    @Option(names = "--sample-ms", defaultValue = "" + DEFAULT_SAMPLE_MILLIS, description = "how long to watch for busy processes, ms"
            + " (default ${DEFAULT-VALUE})")
    long sampleMillis;

    @Override
    public Integer call() throws Exception {
        if (sampleMillis <= 0 || sampleMillis > 60_000) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sample-ms must be in 1..60000, got " + sampleMillis);
        }
        PrintWriter out = spec.commandLine().getOut();
        for (String warning : survey(sampleMillis, out)) {
            out.println("warning: " + warning);
        }
        out.flush();
        return 0;
    }

    /**
     * The warning lines alone ("the load average is ...", without "warning: "), for {@code compare}
     * and {@code pingpong compare} to print before they start and keep in run.json.
     */
    static List<String> warnings(long sampleMillis) throws InterruptedException {
        return survey(sampleMillis, new PrintWriter(Writer.nullWriter()));
    }

    /** Prints what this machine and process allow to {@code out}, a line each; returns the warnings. */
    private static List<String> survey(long sampleMillis, PrintWriter out) throws InterruptedException {
        List<String> warnings = new ArrayList<>();

        Libc.Rlimit limit = Libc.memlockLimit();
        boolean cap = ProcessStatus.hasCapIpcLock();
        PinBudget budget = PinBudget.fromProcess();
        out.println("locked memory: RLIMIT_MEMLOCK soft " + bytes(limit.soft()) + ", hard " + bytes(limit.hard())
                + ", CAP_IPC_LOCK " + (cap ? "yes" : "no") + " -> default pin budget " + budget);
        PinCacheConfig pins = PinCacheConfig.defaults();
        EndpointConfig endpoint = EndpointConfig.defaults();
        NicConfig nic = NicConfig.defaults();
        out.println("defaults: endpoint segment " + endpoint.segmentBytes() / 1024 + " KiB, idle pins at most "
                + pins.maxIdleBytes() / MIB + " MiB and " + pins.maxIdleRegions() + " regions, TLB " + nic.tlbSets() + " x "
                + nic.tlbWays() + " " + nic.tlbPolicy());
        if (!budget.isUnlimited() && endpoint.segmentBytes() > limit.soft() / 2) {
            warnings.add("the default endpoint segment (" + endpoint.segmentBytes() / 1024 + " KiB) is more than half of"
                    + " RLIMIT_MEMLOCK: open endpoints with a smaller EndpointConfig.segmentBytes, or raise ulimit -l");
        }

        int cores = Runtime.getRuntime().availableProcessors();
        String load = RunRecord.loadAverage();
        out.println("cpu: " + cores + " cores, " + RunRecord.cpuModel() + "; load average " + load);
        double oneMinute = parseFirst(load);
        if (oneMinute >= cores) {
            warnings.add("load average " + oneMinute + " on " + cores + " cores: measurements now share cores with other"
                    + " work and will spread; wait for a quiet moment, or quote ratios measured side by side");
        }

        List<String> busy = busyProcesses(sampleMillis);
        out.println("busy processes (over half a core for " + sampleMillis + " ms): "
                + (busy.isEmpty() ? "none" : String.join(", ", busy)));
        if (!busy.isEmpty()) {
            warnings.add(busy.size() + " busy process(es) would share a core with a measurement (a busy-polling NIC, a"
                    + " build): " + String.join(", ", busy));
        }

        long rmem = sysctl("net/core/rmem_max");
        long wmem = sysctl("net/core/wmem_max");
        out.println("socket buffers: rmem_max " + bytes(rmem) + ", wmem_max " + bytes(wmem));
        if (rmem >= 0 && rmem < WANT_SOCKET_BUFFER) {
            warnings.add("net.core.rmem_max is " + bytes(rmem) + ": a udp receiver can hold little, and a stream loses"
                    + " datagrams; 'sysctl -w net.core.rmem_max=" + WANT_SOCKET_BUFFER + "' (as root) gives it room");
        }

        String cma = ShmTransport.crossMemoryAttachRefusal();
        boolean devShm = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"));
        out.println("wires: loopback: yes; udp://: yes (" + UdpTransport.kernelFeatures() + "); shm:name: " + (devShm ? "yes" : "no (/dev/shm not writable)")
                + ", cross-memory attach (one copy for large messages): " + (cma == null ? "yes" : "no"));
        if (cma != null) {
            warnings.add("shm: " + cma);
        }
        return warnings;
    }

    static String bytes(long n) {
        if (n == -2) {
            return "unknown";
        }
        if (n < 0) {
            return "unlimited";
        }
        return n % MIB == 0 ? n / MIB + " MiB" : n % 1024 == 0 ? n / 1024 + " KiB" : n + " B";
    }

    private static double parseFirst(String load) {
        try {
            return Double.parseDouble(load.split(" ")[0]);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** A numeric sysctl, or -2 when it cannot be read. */
    static long sysctl(String name) {
        try {
            return Long.parseLong(RunRecord.sysctl(name));
        } catch (RuntimeException e) {
            return -2;
        }
    }

    /** Processes that used more than half a core during {@code millis}, from /proc/PID/stat, this one excluded. */
    static List<String> busyProcesses(long millis) throws InterruptedException {
        Map<Long, Long> before = cpuTicks();
        long start = System.nanoTime();
        Thread.sleep(millis); // the sampling window itself
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<Long, Long> after = cpuTicks();
        long self = ProcessHandle.current().pid();
        List<String> busy = new ArrayList<>();
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            Long was = before.get(e.getKey());
            if (was == null || e.getKey() == self) {
                continue;
            }
            double cores = (e.getValue() - was) / 100.0 / seconds; // USER_HZ is 100 on Linux
            if (cores > 0.5) {
                busy.add(e.getKey() + " " + command(e.getKey()) + String.format(" (%.0f%%)", 100 * cores));
            }
        }
        return busy;
    }

    private static Map<Long, Long> cpuTicks() {
        Map<Long, Long> ticks = new HashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks.put(Long.parseLong(p.getFileName().toString()), Long.parseLong(f[11]) + Long.parseLong(f[12]));
                } catch (IOException | RuntimeException gone) {
                    // the process ended between the listing and the read
                }
            });
        } catch (IOException e) {
            return ticks;
        }
        return ticks;
    }

    private static String command(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
