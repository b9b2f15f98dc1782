package org.unetmm.bench;

import com.sun.tools.attach.VirtualMachine;
import java.io.PrintWriter;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import javax.management.InstanceNotFoundException;
import javax.management.JMX;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.unetmm.NicMXBean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A running process's NIC counters once a second, as AeronStat does for a media driver: attaches
 * to the JVM with the JDK's attach API, starts its local JMX agent and reads every
 * {@link NicMXBean} it has registered ({@code org.unetmm:type=Nic,*}). Rates are per second over the
 * time since the same NIC's previous line ({@link CounterRates}); a NIC's first line has none ({@code -}).
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "Print a running unetmm process's NIC counters once a second (through the JDK attach API and JMX).",
        footer = {"", "Examples:", "  unetmm stat --pid $(pgrep -f 'unetmm.jar echo')",
                "  unetmm stat --pid 4242 --count 10 --interval-ms 500"})
public final class StatCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--pid", required = true, description = "the process to watch (same user; jps lists JVMs)")
    long pid;

    @Option(names = "--interval-ms", defaultValue = "1000", description = "between lines, ms (default ${DEFAULT-VALUE})")
    long intervalMillis;

    @Option(names = "--count", defaultValue = "0", description = "lines to print, then stop; 0 = until the process"
            + " exits or Ctrl-C (default ${DEFAULT-VALUE})")
    int count;

    @Override
    public Integer call() throws Exception {
        if (intervalMillis <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--interval-ms must be positive, got " + intervalMillis);
        }
        if (count < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be 0 (until the process exits) or"
                    + " a number of lines, got " + count);
        }
        PrintWriter out = spec.commandLine().getOut();
        String address;
        try {
            VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
            try {
                address = vm.startLocalManagementAgent();
            } finally {
                vm.detach();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot attach to process " + pid + " (" + e.getMessage() + "): is it a JVM"
                    + " of this user, still running, started without -XX:+DisableAttachMechanism?", e);
        }
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = connector.getMBeanServerConnection();
            CounterRates rates = new CounterRates();
            out.println(String.format("%-24s %-28s %12s %10s %12s %10s %8s %8s %10s %8s", "nic", "address", "sent msg/s",
                    "sent MB/s", "recv msg/s", "recv MB/s", "dropped", "tlb hit", "pinned KiB", "retx"));
            for (int line = 0; count == 0 || line < count; line++) {
                Set<ObjectName> names = new TreeSet<>(server.queryNames(new ObjectName("org.unetmm:type=Nic,*"), null));
                List<String> rows = rows(server, names, rates);
                if (rows.isEmpty()) {
                    out.println("(process " + pid + " has no open unetmm NIC)");
                }
                rows.forEach(out::println);
                out.flush();
                if (count == 0 || line < count - 1) {
                    Thread.sleep(intervalMillis); // the command's own pace, not a synchronisation
                }
            }
        } catch (java.io.IOException e) {
            out.println("(process " + pid + " went away: " + e.getMessage() + ")");
            out.flush();
        }
        return 0;
    }

    /**
     * One line for each NIC of {@code names} still open when it is read; a NIC that closed since
     * the listing has none (its MXBean is gone), and its rates are forgotten.
     */
    static List<String> rows(MBeanServerConnection server, Set<ObjectName> names, CounterRates rates) {
        List<String> rows = new ArrayList<>();
        Set<String> open = new HashSet<>();
        for (ObjectName name : names) {
            String nicName = name.getKeyProperty("name").replace("\"", "");
            try {
                rows.add(row(JMX.newMXBeanProxy(server, name, NicMXBean.class), nicName, rates));
            } catch (UndeclaredThrowableException e) {
                if (!(e.getCause() instanceof InstanceNotFoundException)) {
                    throw e;
                }
                continue; // closed between the listing and the reading
            }
            open.add(nicName);
        }
        rates.retain(open);
        return rows;
    }

    /** One NIC's line; each counter read once, so a ratio of two of them never passes 1. */
    private static String row(NicMXBean nic, String name, CounterRates rates) {
        double[] perSecond = rates.update(name, System.nanoTime(), nic.getMessagesSent(), nic.getBytesSent(),
                nic.getMessagesReceived(), nic.getBytesReceived());
        long hits = nic.getTlbHits();
        long lookups = hits + nic.getTlbMisses();
        return String.format("%-24s %-28s %12s %10s %12s %10s %8d %8s %10d %8d", name, nic.getTransportAddress(),
                CounterRates.format(perSecond, 0, 1, "%.0f"), CounterRates.format(perSecond, 1, 1e6, "%.1f"),
                CounterRates.format(perSecond, 2, 1, "%.0f"), CounterRates.format(perSecond, 3, 1e6, "%.1f"),
                nic.getDropped(), lookups == 0 ? "-" : String.format("%.3f", (double) hits / lookups),
                nic.getPinnedBytes() >> 10, nic.getRetransmissions());
    }
}
