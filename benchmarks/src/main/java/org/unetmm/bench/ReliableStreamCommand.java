package org.unetmm.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.ReliableStats;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.tlb.ReplacementPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm reliable-stream}: the throughput of a reliable stream of 64 KiB messages between
 * two network namespaces joined by a veth pair at MTU 1500, without loss and with real loss (an
 * nftables rule in the receiving namespace's input hook dropping a share of the datagrams at
 * random), in one run. Each side is a JVM of its own ({@code ip netns exec}); this process only
 * sets up the link, relays the channel addresses, switches the loss on and off between
 * streams, and prints the table. Streams alternate lossless / lossy (A B A B, after one lossless
 * warm-up stream), so drift hits both alike; the table gives the median with min and max of each
 * kind's MB/s and retransmissions per fragment, flagged {@code spread} when a kind's MB/s differ by
 * more than {@code --spread-flag} of their median, and the lossy ÷ lossless ratio taken per repeat
 * pair (the two streams of one repeat), then summarised. Every run writes {@code run.json} (opened
 * at the start) and {@code reliable-stream.json} under {@code results/<timestamp>/};
 * {@code --format json} prints the latter, {@code --format csv} a row per kind (the stream lines
 * go to stderr then). Root only; namespaces and nftables tables are removed at the end, also on
 * failure.
 *
 * <p>Children: {@code --role sink} (receives, checks each message's sequence and sampled bytes)
 * and {@code --role sender} (sends when told, reports each stream); they speak one line at a time
 * on standard input and output.
 */
@Command(name = "reliable-stream", mixinStandardHelpOptions = true,
        description = "Reliable 64 KiB stream between two network namespaces: lossless vs nftables loss, side by side.",
        footer = {"", "Examples (as root: it creates two network namespaces and an nftables rule):",
                "  unetmm reliable-stream",
                "  unetmm reliable-stream --loss 20 --loss-both-ways --repeats 5 --format json",
                "  unetmm reliable-stream --total 8MiB --message 16KiB --repeats 7 --format csv",
                "", "Exit status: 0 when every stream arrived intact, 1 when a side failed or is not root, 2 on bad usage."})
public final class ReliableStreamCommand implements Callable<Integer> {
    private double spreadFlag;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ResultsOptions output;

    @CommandLine.Mixin
    SpreadFlag spread;

    @Option(names = "--total", defaultValue = "32MiB", converter = ByteSize.class, description = "bytes per stream ("
            + ByteSize.FORMS + "; default ${DEFAULT-VALUE})")
    long total;

    @Option(names = "--message", defaultValue = "64KiB", converter = ByteSize.class, description = "bytes per message"
            + " (default ${DEFAULT-VALUE})")
    int message;

    @Option(names = "--loss", defaultValue = "10", description = "percent of datagrams dropped in the lossy streams (default ${DEFAULT-VALUE})")
    int loss;

    @Option(names = "--loss-both-ways", description = "drop acknowledgements too (the rule in the sender's namespace as well)")
    boolean bothWays;

    @Option(names = "--repeats", defaultValue = "3", description = "lossless/lossy pairs of streams, alternating"
            + " (lossless lossy lossless lossy …); the median, min and max are reported (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--window", defaultValue = "32", description = "reliable window, messages (default ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--tlb-sets", defaultValue = "256", description = "TLB sets of each side's NIC, 4 ways each"
            + " (default ${DEFAULT-VALUE}: 1,024 entries, fewer than the sink's 2 x window + 8 posted buffers of 16 pages"
            + " at the defaults, so its pages miss; 512 holds them)")
    int tlbSets;

    @Option(names = "--stream-timeout", defaultValue = "300", description = "seconds one stream may take (default ${DEFAULT-VALUE})")
    int streamTimeout;

    @Option(names = "--role", hidden = true, description = "child: sink or sender")
    String role;

    @Option(names = "--bind", hidden = true)
    String bind;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        output.validate(cl, true);
        ByteSize.checkCount(cl, "--repeats", repeats, 1, 1000);
        spreadFlag = spread.threshold(cl);
        if (tlbSets < 1 || Integer.bitCount(tlbSets) != 1) {
            throw new CommandLine.ParameterException(cl, "--tlb-sets must be a power of two (256, 512, …), got " + tlbSets);
        }
        if (message <= 0 || total < message || loss < 0 || loss > 100) {
            throw new CommandLine.ParameterException(cl, "need --message > 0, --total >= --message and 0 <= --loss <= 100");
        }
        if ("sink".equals(role)) {
            return sink();
        }
        if ("sender".equals(role)) {
            return sender();
        }
        if (role != null) {
            throw new CommandLine.ParameterException(cl, "unknown --role " + role);
        }
        try {
            return coordinate();
        } catch (IllegalStateException | IOException e) {
            System.err.println("unetmm reliable-stream: " + e.getMessage()); // the link and its rules are already gone
            return 1;
        }
    }

    private ChannelConfig options() {
        return ChannelConfig.builder().reliable(true).window(window).build();
    }

    private Nic openNic() {
        return Nic.open(NicConfig.builder().transport("udp://" + bind + ":0").tlb(tlbSets, 4, ReplacementPolicy.LRU)
                .progressMode(ProgressMode.CALLER).build());
    }

    private static byte expected(long seq, int i) {
        return (byte) (seq * 131 + i * 7);
    }

    // =============================================================================================
    // the receiving JVM
    // =============================================================================================

    private int sink() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        PrintStream out = System.out;
        try (Nic nic = openNic()) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).freeQueue(2 * window + 8)
                    .completionQueue(4 * window + 16).build());
            Channel channel = endpoint.openChannel(options());
            out.println("READY " + channel.address());
            out.flush();
            channel.connect(ChannelAddress.parse(in.readLine().trim()));
            ArrayDeque<ByteBuffer> buffers = new ArrayDeque<>();
            for (int i = 0; i < 2 * window + 8; i++) {
                buffers.add(ByteBuffer.allocateDirect(message));
            }
            long seq = 0;
            long bad = 0;
            while (true) {
                while (!buffers.isEmpty() && endpoint.postReceive(buffers.peek(), 0).isPosted()) {
                    buffers.poll();
                }
                nic.progress();
                Completion c;
                while ((c = endpoint.poll()) != null) {
                    if (c.status() != CompletionStatus.OK) {
                        out.println("FAILED receive " + c);
                        out.flush();
                        return 1;
                    }
                    ByteBuffer b = c.buffer();
                    if (c.length() != message || b.getLong(c.offset()) != seq) {
                        bad++;
                    } else {
                        for (int i = 8; i < message; i += 1021) {
                            if (b.get(c.offset() + i) != expected(seq, i)) {
                                bad++;
                                break;
                            }
                        }
                    }
                    seq++;
                    buffers.add(b);
                }
                if (channel.isClosed()) {
                    out.println("DONE " + seq + " " + bad);
                    out.flush();
                    return bad == 0 ? 0 : 1;
                }
            }
        }
    }

    // =============================================================================================
    // the sending JVM
    // =============================================================================================

    private int sender() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        PrintStream out = System.out;
        try (Nic nic = openNic()) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).sendQueue(2 * window)
                    .completionQueue(4 * window).build());
            Channel channel = endpoint.openChannel(options());
            channel.connect(ChannelAddress.parse(in.readLine().trim()));
            out.println("READY " + channel.address());
            out.flush();
            ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
            for (int i = 0; i < window + 8; i++) {
                free.add(ByteBuffer.allocateDirect(message));
            }
            long seq = 0;
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("CLOSE")) {
                    channel.close();
                    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (!channel.isClosed() && System.nanoTime() - deadline < 0) {
                        nic.progress();
                    }
                    out.println("CLOSED");
                    out.flush();
                    return 0;
                }
                long messages = total / message;
                ReliableStats before = channel.reliableStats();
                long start = System.nanoTime();
                long deadline = start + TimeUnit.SECONDS.toNanos(streamTimeout);
                long sent = 0;
                long done = 0;
                while (done < messages) {
                    if (System.nanoTime() - deadline > 0) {
                        out.println("FAILED stream timed out after " + done + " of " + messages + " messages");
                        out.flush();
                        return 1;
                    }
                    while (sent < messages && !free.isEmpty()) {
                        ByteBuffer b = free.peek();
                        b.putLong(0, seq + sent);
                        for (int i = 8; i < message; i += 1021) {
                            b.put(i, expected(seq + sent, i));
                        }
                        if (endpoint.send(channel, b, 0, message, SendPath.PINNED, sent) != SendStatus.ACCEPTED) {
                            break;
                        }
                        free.poll();
                        sent++;
                    }
                    nic.progress();
                    Completion c;
                    while ((c = endpoint.poll()) != null) {
                        if (c.status() != CompletionStatus.OK) {
                            out.println("FAILED send " + c);
                            out.flush();
                            return 1;
                        }
                        free.add(c.buffer());
                        done++;
                    }
                }
                long nanos = System.nanoTime() - start;
                seq += messages;
                ReliableStats after = channel.reliableStats();
                out.printf(Locale.ROOT, "STREAM %d %d %d %d %d %d %d %d %d%n", messages * message, nanos,
                        after.fragmentsSent() - before.fragmentsSent(), after.retransmissions() - before.retransmissions(),
                        after.timeouts() - before.timeouts(), after.rttSamples() - before.rttSamples(),
                        after.srtt().toNanos(), after.acksReceived() - before.acksReceived(),
                        after.ackWait().minus(before.ackWait()).toNanos());
                out.flush();
            }
            return 1;
        }
    }

    // the coordinator: namespaces, veth and nftables in NamespaceLink, then the table

    private static int port(String channelAddress) {
        String transport = ChannelAddress.parse(channelAddress).transportAddress();
        return Integer.parseInt(transport.substring(transport.lastIndexOf(':') + 1));
    }

    private int coordinate() throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("unetmm reliable-stream: needs root (it makes network namespaces and nftables rules)");
            return 1;
        }
        Path dir = RunRecord.newRunDirectory(output.results);
        RunRecord record = RunRecord.open(dir, "reliable-stream", configuration(spreadFlag));
        record.put("kernelFeatures", RunRecord.kernelFeatures("udp:"));
        PrintStream out = output.json() || output.csv() ? System.err : System.out; // the stream lines
        List<ReliableStreamResults.Stream> streams = new ArrayList<>();
        String problem;
        try {
            problem = measure(streams, out);
        } catch (IllegalStateException | IOException e) {
            record.finish(Map.of("notes", List.of(String.valueOf(e.getMessage()))));
            throw e;
        }
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("repeatsMeasured", streams.size());
        end.put("repeatDurations", streams.stream().map(ReliableStreamResults::duration).toList());
        end.put("notes", problem == null ? List.of() : List.of(problem));
        if (problem != null) {
            record.finish(end);
            System.err.println("unetmm reliable-stream: " + problem);
            return 1;
        }
        ReliableStreamResults results = new ReliableStreamResults(message, total, window, loss, bothWays, repeats);
        if (!output.json() && !output.csv()) {
            results.report(streams, spreadFlag, out);
        }
        output.finish(record, dir, "reliable-stream.json", end, run -> results.document(run, streams, spreadFlag),
                () -> results.csv(streams, spreadFlag));
        return 0;
    }

    /**
     * Sets up the link and the two sides, runs the warm-up stream and the lossless/lossy pairs into
     * {@code streams}; returns what the sink found wrong, or null.
     */
    private String measure(List<ReliableStreamResults.Stream> streams, PrintStream out) throws IOException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), UnetmmCommand.class.getName(), "reliable-stream",
                "--total", String.valueOf(total), "--message", String.valueOf(message), "--window", String.valueOf(window),
                "--stream-timeout", String.valueOf(streamTimeout), "--tlb-sets", String.valueOf(tlbSets)));
        try (NamespaceLink link = new NamespaceLink()) {
            Thread cleanup = new Thread(link::close, "unetmm-reliable-stream-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            List<String> sinkCommand = new ArrayList<>(link.exec(link.sinkNs));
            sinkCommand.addAll(java);
            sinkCommand.addAll(List.of("--role", "sink", "--bind", link.sinkAddress));
            List<String> senderCommand = new ArrayList<>(link.exec(link.sendNs));
            senderCommand.addAll(java);
            senderCommand.addAll(List.of("--role", "sender", "--bind", link.sendAddress));
            try (NamespaceLink.Child sink = new NamespaceLink.Child("sink", sinkCommand);
                 NamespaceLink.Child sender = new NamespaceLink.Child("sender", senderCommand)) {
                String sinkAddress = sink.expect("READY");
                sender.say(sinkAddress);
                String senderAddress = sender.expect("READY");
                sink.say(senderAddress);
                int sinkPort = port(sinkAddress);
                int senderPort = port(senderAddress);
                out.printf(Locale.ROOT, "reliable stream %s -> %s (veth, MTU 1500): %d x %d B per stream, window %d,"
                                + " loss %d %% by nftables in the %s%n", link.sendAddress, link.sinkAddress, total / message,
                        message, window, loss, bothWays ? "both namespaces" : "receiving namespace");
                sender.say("STREAM"); // warm-up, lossless, not counted
                sender.expect("STREAM");
                for (int r = 0; r < repeats; r++) {
                    for (boolean lossy : new boolean[] {false, true}) {
                        link.loss(link.sinkNs, sinkPort, lossy ? loss : 0);
                        if (bothWays) {
                            link.loss(link.sendNs, senderPort, lossy ? loss : 0);
                        }
                        Instant at = Instant.now();
                        sender.say("STREAM");
                        ReliableStreamResults.Stream s = ReliableStreamResults.Stream.parse(lossy, r, at, sender.expect("STREAM"));
                        streams.add(s);
                        out.printf(Locale.ROOT, "  %-8s %8.1f MB/s  %6.2f s  retransmissions/fragment %.3f"
                                        + "  timeouts %d  rtt samples %d  srtt %.0f us  acks/64KiB %.1f  waiting on acks %.0f %%%n",
                                lossy ? "loss" : "lossless", s.mbPerSecond(), s.nanos() / 1e9, s.retransmissionsPerFragment(),
                                s.timeouts(), s.samples(), s.srtt() / 1e3, s.acksPer64KiB(), 100 * s.ackWaitShare());
                        out.flush();
                    }
                }
                link.loss(link.sinkNs, sinkPort, 0);
                link.loss(link.sendNs, senderPort, 0);
                sender.say("CLOSE");
                sender.expect("CLOSED");
                String done = sink.expect("DONE");
                String[] counts = done.split(" ");
                if (!counts[1].equals("0")) {
                    return "the sink found " + counts[1] + " damaged or misordered messages";
                }
                out.println("  sink: " + counts[0] + " messages, every one in order with its sampled bytes intact");
                return null;
            } finally {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
        }
    }

    private Map<String, Object> configuration(double spreadFlag) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("link", "two network namespaces, a veth pair at MTU 1500, addresses from 198.18.0.0/15");
        c.put("totalBytes", total);
        c.put("messageBytes", message);
        c.put("window", window);
        c.put("lossPercent", loss);
        c.put("lossBy", "nftables numgen random drop in the receiving namespace" + (bothWays ? " and the sender's" : ""));
        c.put("repeats", repeats);
        c.put("repeatOrder", "one lossless warm-up stream (not counted), then alternating: lossless, lossy, lossless, lossy, …");
        c.put("ratios", "per repeat pair: the lossy stream's MB/s ÷ the lossless stream's of the same repeat; then median, min, max");
        c.put("streamTimeoutSeconds", streamTimeout);
        c.put("tlbEntriesPerNic", 4L * tlbSets);
        c.put("spreadFlag", spreadFlag);
        return c;
    }
}
