package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;

/**
 * {@code unetmm echo --sessions 1} in a JVM of its own, two clients here: when client B's
 * session evicts client A's and reuses its tag (and both clients' data channels have the same
 * tag, being the first of a fresh NIC), A, still sending on its old session, reaches nobody:
 * the echo drops A's frames as from the wrong peer address and B receives nothing of them.
 */
@Timeout(90)
class EchoSessionIsolationTest {
    private static final int MESSAGES = 50;
    private static final Duration BOUND = Duration.ofSeconds(15);
    private static final Pattern LISTENING = Pattern.compile("^echo: listening on (udp://[0-9.]+:[0-9]+)/1");
    private static final Pattern WRONG_PEER = Pattern.compile("WRONG_PEER_ADDRESS=(\\d+)");

    @Test
    void aClientWhoseSessionWasEvictedReachesNoOtherClient() throws Exception {
        Process echo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), UnetmmCommand.class.getName(),
                "echo", "--listen", "udp://127.0.0.1:0", "--sessions", "1", "--duration", "60").redirectErrorStream(true).start();
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(echo.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, "echo-output");
            reader.setDaemon(true);
            reader.start();
            String first = lines.poll(BOUND.toSeconds(), TimeUnit.SECONDS);
            Matcher listening = first == null ? null : LISTENING.matcher(first);
            assertThat(listening != null && listening.find()).as("the echo's first line: " + first).isTrue();
            String address = listening.group(1);
            String bind = EchoProtocol.localBindFor(address);
            try (Nic nicA = Nic.open(NicConfig.builder().transport(bind).progressMode(ProgressMode.CALLER).build());
                 Nic nicB = Nic.open(NicConfig.builder().transport(bind).progressMode(ProgressMode.CALLER).build())) {
                Endpoint a = nicA.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 16).build());
                Endpoint b = nicB.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 16).build());
                EchoProtocol.Session sessionA = EchoProtocol.connect(a, address, 64, Duration.ofSeconds(1), 5);
                assertThat(roundTrip(nicA, a, sessionA, "A, in session")).isEqualTo("A, in session");

                EchoProtocol.Session sessionB = EchoProtocol.connect(b, address, 64, Duration.ofSeconds(1), 5); // evicts A's
                assertThat(sessionB.data().remote().tag()).as("B's session reuses A's tag").isEqualTo(sessionA.data().remote().tag());
                assertThat(sessionB.data().tag()).as("and the clients' data channels share a tag").isEqualTo(sessionA.data().tag());
                ByteBuffer landing = ByteBuffer.allocateDirect(4096);
                b.postReceive(landing, 1);
                for (int i = 0; i < MESSAGES; i++) {
                    assertThat(a.send(sessionA.data(), EchoProtocol.message("A's message " + i), SendPath.FIXED_SEGMENT, 100 + i)
                            .isAccepted()).isTrue();
                }
                long dropped = 0;
                long deadline = System.nanoTime() + BOUND.toNanos();
                while (dropped < MESSAGES) {
                    assertThat(System.nanoTime() - deadline).as("the echo reported %d frames from the wrong peer address within %s"
                            + " (so far %d)", MESSAGES, BOUND, dropped).isNegative();
                    nicA.progress();
                    nicB.progress();
                    Completion c = b.poll();
                    if (c != null && c.kind() == Completion.Kind.RECEIVE) {
                        throw new AssertionError("client B, which sent nothing, received '" + EchoProtocol.text(c.buffer(), c.offset(),
                                c.length()) + "' (" + c.status() + "): A's message, echoed on the session that reuses its tag");
                    }
                    String line = lines.poll(1, TimeUnit.MILLISECONDS);
                    Matcher m = line == null ? null : WRONG_PEER.matcher(line);
                    if (m != null && m.find()) {
                        dropped = Long.parseLong(m.group(1));
                    }
                }
                assertThat(dropped).as("every frame of A's, and only those").isEqualTo(MESSAGES);
                assertThat(roundTrip(nicB, b, sessionB, "B, in session")).as("B's session is unharmed").isEqualTo("B, in session");
            }
        } finally {
            echo.destroyForcibly();
            echo.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Sends {@code text} on the session and returns what comes back on it, driving progress; bounded. */
    private static String roundTrip(Nic nic, Endpoint endpoint, EchoProtocol.Session session, String text) {
        ByteBuffer landing = ByteBuffer.allocateDirect(4096);
        endpoint.postReceive(landing, 7);
        assertThat(endpoint.send(session.data(), EchoProtocol.message(text), SendPath.FIXED_SEGMENT, 8).isAccepted()).isTrue();
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (System.nanoTime() - deadline < 0) {
            nic.progress();
            Completion c = endpoint.poll();
            if (c != null && c.kind() == Completion.Kind.RECEIVE) {
                assertThat(c.status()).isEqualTo(CompletionStatus.OK);
                assertThat(c.channel()).isSameAs(session.data());
                return EchoProtocol.text(c.buffer(), c.offset(), c.length());
            }
        }
        throw new AssertionError("no echo of '" + text + "' within " + BOUND);
    }
}
