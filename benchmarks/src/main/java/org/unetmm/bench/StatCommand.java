package org.unetmm.bench;

import com.sun.tools.attach.VirtualMachine;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
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
 * {@link NicMXBean} it has registered ({@code org.unetmm:type=Nic,*}). Rates are per interval.
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
            List<long[]> previous = new ArrayList<>();
            out.println(String.format("%-24s %-28s %12s %10s %12s %10s %8s %8s %10s %8s", "nic", "address", "sent msg/s",
                    "sent MB/s", "recv msg/s", "recv MB/s", "dropped", "tlb hit", "pinned KiB", "retx"));
            for (int line = 0; count == 0 || line < count; line++) {
                Set<ObjectName> names = new TreeSet<>(server.queryNames(new ObjectName("org.unetmm:type=Nic,*"), null));
                if (names.isEmpty()) {
                    out.println("(process " + pid + " has no open unetmm NIC)");
                }
                List<long[]> now = new ArrayList<>();
                int i = 0;
                for (ObjectName name : names) {
                    NicMXBean nic = JMX.newMXBeanProxy(server, name, NicMXBean.class);
                    long[] v = {nic.getMessagesSent(), nic.getBytesSent(), nic.getMessagesReceived(), nic.getBytesReceived()};
                    long[] before = i < previous.size() ? previous.get(i) : v;
                    double seconds = intervalMillis / 1000.0;
                    long lookups = nic.getTlbHits() + nic.getTlbMisses();
                    out.println(String.format("%-24s %-28s %12.0f %10.1f %12.0f %10.1f %8d %8s %10d %8d",
                            name.getKeyProperty("name").replace("\"", ""), nic.getTransportAddress(),
                            (v[0] - before[0]) / seconds, (v[1] - before[1]) / seconds / 1e6,
                            (v[2] - before[2]) / seconds, (v[3] - before[3]) / seconds / 1e6, nic.getDropped(),
                            lookups == 0 ? "-" : String.format("%.3f", (double) nic.getTlbHits() / lookups),
                            nic.getPinnedBytes() >> 10, nic.getRetransmissions()));
                    now.add(v);
                    i++;
                }
                out.flush();
                previous = now;
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
}
