package org.unetmm.bench;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.unetmm.nic.shm.ShmTransport;
import org.unetmm.nic.udp.UdpConfig;
import org.unetmm.nic.udp.UdpTransport;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.pinning.internal.Libc;

/**
 * Where a run's results go and what makes them reproducible: {@code results/<timestamp>/} and its
 * {@code run.json}, opened (written) when the run starts — start time, configuration, the process's
 * RLIMIT_MEMLOCK, uid, CAP_IPC_LOCK, cores and load, JVM, kernel, CPU model and the git commit baked
 * into the jar — and rewritten when it ends with the end time, the load then and the notes.
 */
final class RunRecord {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);
    /** Writes run.json and compare.json: indented, one field a line, {@code "key": value}, arrays {@code [1, 2]}. */
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .setDefaultPrettyPrinter(prettyPrinter());
    static final String UNKNOWN_COMMIT = "unknown (built outside a git clone)";

    private static DefaultPrettyPrinter prettyPrinter() {
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER).withArrayValueSpacing(Separators.Spacing.AFTER));
        printer.indentArraysWith(DefaultPrettyPrinter.NopIndenter.instance);
        return printer;
    }

    private final Path file;
    private final Map<String, Object> run = new LinkedHashMap<>();

    private RunRecord(Path file) {
        this.file = file;
    }

    static Path newRunDirectory(Path resultsRoot) throws IOException {
        Path dir = resultsRoot.resolve(STAMP.format(Instant.now()));
        Files.createDirectories(dir);
        return dir;
    }

    /** Writes {@code dir/run.json} now, before anything is measured; {@link #finish} completes it. */
    static RunRecord open(Path dir, String command, Map<String, Object> configuration) throws IOException {
        RunRecord record = new RunRecord(dir.resolve("run.json"));
        Map<String, Object> run = record.run;
        run.put("command", command);
        run.put("startTime", Instant.now().toString());
        run.put("endTime", null);
        run.put("configuration", configuration);
        run.put("process", process());
        run.put("cores", Runtime.getRuntime().availableProcessors());
        run.put("loadAverageStart", loadAverage());
        run.put("loadAverageEnd", null);
        run.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        run.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        run.put("cpu", cpuModel());
        run.put("host", hostName());
        run.put("gitCommit", gitCommit());
        record.write();
        return record;
    }

    /** Rewrites run.json with the end time, the load average now and {@code extra} (notes, repeats). */
    void finish(Map<String, Object> extra) throws IOException {
        run.put("endTime", Instant.now().toString());
        run.put("loadAverageEnd", loadAverage());
        run.putAll(extra);
        write();
    }

    /** Adds {@code key} (e.g. the machine's warnings, known once the run has started) and rewrites run.json. */
    void put(String key, Object value) throws IOException {
        run.put(key, value);
        write();
    }

    /**
     * What the kernel does for {@code transport}'s wire, for run.json's {@code kernelFeatures}: shm's
     * cross-memory attach (usable, or why it is refused), udp's batched system calls; nothing in-JVM.
     */
    static Map<String, Object> kernelFeatures(String transport) {
        Map<String, Object> f = new LinkedHashMap<>();
        if (transport.startsWith("shm:")) {
            String refusal = ShmTransport.crossMemoryAttachRefusal();
            f.put("crossMemoryAttach", refusal == null ? "usable (process_vm_readv)" : "refused: " + refusal);
        } else if (transport.startsWith("udp:")) {
            f.put("sendmmsg", "used");
            f.put("recvmmsg", "used");
            UdpTransport.Features kernel = UdpTransport.kernelFeatures();
            UdpConfig asked;
            try {
                asked = UdpConfig.parse(transport);
            } catch (IllegalArgumentException e) {
                asked = null; // the command refuses a bad URI itself; the record says what the kernel offers
            }
            f.put("gso", offload(kernel.gso(), asked == null || asked.gso(), "UDP_SEGMENT", "gso=false"));
            f.put("gro", offload(kernel.gro(), asked == null || asked.gro(), "UDP_GRO", "gro=false"));
            f.put("zerocopy", asked == null || asked.zeroCopy() == 0 ? "off"
                    : "MSG_ZEROCOPY from " + asked.zeroCopy() + " B (on loopback and veth the kernel copies)");
        }
        return f;
    }

    private static String offload(boolean kernel, boolean asked, String option, String offKey) {
        return !kernel ? "not offered by this kernel (" + option + ")" : asked ? "used (" + option + ")" : "off by " + offKey;
    }

    Map<String, Object> asMap() {
        return run;
    }

    /** A run record written at the end in one go, for the commands whose runs are not interleaved yet. */
    static void writeRunJson(Path dir, String command, Map<String, Object> configuration) throws IOException {
        open(dir, command, configuration).finish(Map.of());
    }

    private void write() throws IOException {
        Files.writeString(file, JSON.writeValueAsString(run) + "\n");
    }

    /** uid, RLIMIT_MEMLOCK (bytes; "unlimited") and CAP_IPC_LOCK: what decides how much this process may pin. */
    private static Map<String, Object> process() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("pid", ProcessHandle.current().pid());
        p.put("uid", uid());
        try {
            Libc.Rlimit limit = Libc.memlockLimit();
            p.put("rlimitMemlockSoft", limit.soft() == -1 ? "unlimited" : limit.soft());
            p.put("rlimitMemlockHard", limit.hard() == -1 ? "unlimited" : limit.hard());
        } catch (RuntimeException e) {
            p.put("rlimitMemlock", "unknown: " + e.getMessage());
        }
        p.put("capIpcLock", ProcessStatus.hasCapIpcLock());
        return p;
    }

    /** The real uid from /proc/self/status, or null off Linux. */
    private static Object uid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .map(l -> Long.parseLong(l.substring(4).trim().split("\\s+")[0])).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A sysctl's value from {@code /proc/sys} (e.g. {@code net/core/rmem_max}), or null if unreadable.
     * Read by lines: {@code Files.readString} of such a file returns only its first byte on Linux
     * (the JDK reads it as a file of size 0 in one small read), so "4194304" came back as "4".
     */
    static String sysctl(String name) {
        try {
            return String.join("\n", Files.readAllLines(Path.of("/proc/sys", name))).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The 1, 5 and 15 minute load averages from /proc/loadavg, and the runnable/total tasks. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2] + " (runnable/tasks " + f[3] + ")";
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    static String hostName() {
        try {
            String name = sysctl("kernel/hostname");
            if (name == null) {
                throw new IOException("no /proc/sys/kernel/hostname");
            }
            return name;
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /**
     * The commit the jar was built from: {@code build.properties}, written at build time by the
     * benchmarks pom from {@code git rev-parse HEAD}, "-dirty" after it when the work tree had
     * uncommitted changes (so it is known wherever the jar runs), or
     * {@value #UNKNOWN_COMMIT}.
     */
    static String gitCommit() {
        String commit = buildProperty("gitCommit");
        return commit == null ? UNKNOWN_COMMIT : commit;
    }

    /** The project version the jar was built as ({@code build.properties}), or "unknown". */
    static String buildVersion() {
        String version = buildProperty("version");
        return version == null ? "unknown" : version;
    }

    /** A value of {@code build.properties}, or null when the jar has none (or the build left it unfilled). */
    private static String buildProperty(String key) {
        try (InputStream in = RunRecord.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            String value = p.getProperty(key, "").trim();
            return value.isEmpty() || value.startsWith("${") ? null : value;
        } catch (IOException e) {
            return null;
        }
    }
}
