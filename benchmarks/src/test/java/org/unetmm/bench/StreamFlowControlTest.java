package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;

/**
 * What a sink can hold bounds what {@code unetmm stream} sends it, and what the sink counts is what
 * arrived whole: a sink in a JVM of its own over udp loopback, real sockets.
 */
@Timeout(90)
class StreamFlowControlTest {
    private static final int REPORTS = 8;

    @TempDir
    Path results;

    /**
     * A 256 KiB stream into a sink left at its default 4 KiB buffers: every message would arrive
     * truncated, so the stream refuses with exit 2 and the fix, and the sink counts nothing.
     */
    @Test
    void aStreamLargerThanTheSinksBuffersIsRefusedNamingMaxMessage() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", address, "--duration", "30")) {
            assertThat(sink.nextLine()).startsWith("sink: listening on " + address + "/1, 256 buffers of 4096 B");
            CommandRun run = CommandRun.of("stream", "--to", address, "--size", "256KiB", "--duration", "1",
                    "--results", results.toString());
            assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(2);
            assertThat(run.err()).as(run.err()).contains("stream: the sink at " + address + " takes messages of at most 4096 B,"
                    + " not 262144 B: start it with --max-message 262144");
            assertThat(run.out()).as(run.out()).doesNotContain("delivered");
            assertThat(sink.lineStartingWith("sink: refused stream from")).contains("262144 B messages do not fit the 4096 B"
                    + " buffers; restart the sink with --max-message 262144");
        }
    }

    /**
     * A sender that announces 1000 B messages and then sends five of 1000 B and five of 8 KiB to a
     * sink with 4 KiB buffers: the final report counts five received, their 5000 bytes, and five truncated.
     */
    @Test
    void aTruncatedMessageIsCountedTruncatedNeverReceived() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", address, "--duration", "30", "--buffers", "32");
             Nic nic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build())) {
            sink.nextLine();
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(256 * 1024).build());
            Channel data = endpoint.connect(new ChannelAddress(address, StreamProtocol.SINK_TAG));
            Channel replies = endpoint.openChannel();
            ByteBuffer reports = ByteBuffer.allocateDirect(REPORTS * StreamProtocol.REPORT_BYTES);
            for (int i = 0; i < REPORTS; i++) {
                endpoint.postReceive(reports, i * StreamProtocol.REPORT_BYTES, StreamProtocol.REPORT_BYTES, i);
            }
            ByteBuffer message = ByteBuffer.allocateDirect(8192);
            int hello = StreamProtocol.hello(message, 1000, replies.address().toString());
            ByteBuffer report = awaitReport(nic, endpoint, data, message, hello, reports, false);
            assertThat(StreamProtocol.Capacity.read(report, 0).bufferBytes()).isEqualTo(4096);
            for (long seq = 0; seq < 10; seq++) {
                StreamProtocol.le(message).putLong(0, seq);
                assertThat(endpoint.send(data, message, 0, seq < 5 ? 1000 : 8192, SendPath.FIXED_SEGMENT, seq).isAccepted()).isTrue();
                nic.progress();
            }
            StreamProtocol.le(message).putLong(0, StreamProtocol.END).putLong(8, 10);
            report = awaitReport(nic, endpoint, data, message, 16, reports, true);
            ByteBuffer r = StreamProtocol.le(report);
            assertThat(r.getLong(0)).as("received").isEqualTo(5);
            assertThat(r.getLong(8)).as("bytes").isEqualTo(5000);
            assertThat(r.getLong(StreamProtocol.TRUNCATED_OFFSET)).as("truncated").isEqualTo(5);
        }
    }

    /**
     * A sink whose SO_RCVBUF holds fewer 64 KiB messages than it posts buffers, and one with fewer
     * buffers than that: the stream's window is the smaller of the two, as the sink said, and never
     * more messages than that are outstanding beyond the sink's last report.
     */
    @Test
    void theStreamsWindowNeverExceedsWhatTheSinkSaidItHolds() throws Exception {
        checkWindow("?rcvbuf=262144", "64");
        checkWindow("", "3");
    }

    private void checkWindow(String query, String buffers) throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess sink = UnetmmProcess.start("sink", "--listen", address + query, "--duration", "30",
                "--buffers", buffers, "--max-message", "64KiB")) {
            sink.nextLine();
            CommandRun run = CommandRun.of("stream", "--to", address, "--size", "64KiB", "--duration", "1", "--format", "json",
                    "--results", results.resolve("w" + buffers).toString());
            assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
            JsonNode flow = RunRecord.JSON.readTree(run.out()).at("/samples/0/flow");
            int window = flow.get("windowMessages").asInt();
            long rcvbufHalf = flow.get("sinkRcvbufReported").asLong() / 2;
            assertThat(window).as(flow.toString()).isPositive().isLessThanOrEqualTo(flow.get("sinkBuffers").asInt())
                    .isEqualTo((int) Math.min(Integer.parseInt(buffers), rcvbufHalf / 65536));
            assertThat((long) window * 65536).as(flow.toString()).isLessThanOrEqualTo(rcvbufHalf);
            assertThat(flow.get("mostOutstanding").asLong()).as(flow.toString()).isPositive().isLessThanOrEqualTo(window);
            assertThat(sink.lineStartingWith("sink: stream from")).contains("65536 B messages, window " + window + " messages");
        }
    }

    /** Sends {@code length} bytes of {@code control} every 100 ms until a report (after END: the final one) arrives. */
    private static ByteBuffer awaitReport(Nic nic, Endpoint endpoint, Channel data, ByteBuffer control, int length,
                                          ByteBuffer reports, boolean last) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        long resend = 0;
        while (System.nanoTime() - deadline < 0) {
            if (System.nanoTime() - resend >= 0) {
                endpoint.send(data, control, 0, length, SendPath.FIXED_SEGMENT, -1);
                resend = System.nanoTime() + 100_000_000L;
            }
            nic.progress();
            for (Completion c; (c = endpoint.poll()) != null; ) {
                if (c.kind() != Completion.Kind.RECEIVE) {
                    continue;
                }
                ByteBuffer report = ByteBuffer.allocateDirect(StreamProtocol.REPORT_BYTES);
                report.put(0, reports, c.offset(), StreamProtocol.REPORT_BYTES);
                endpoint.postReceive(reports, c.offset(), StreamProtocol.REPORT_BYTES, c.cookie());
                if (c.isSuccess() && c.length() == StreamProtocol.REPORT_BYTES
                        && (!last || StreamProtocol.le(report.duplicate()).getLong(32) == 1)) {
                    return report;
                }
            }
        }
        throw new AssertionError("no " + (last ? "final " : "") + "report from the sink within 10 s");
    }
}
