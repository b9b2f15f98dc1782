package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.pinning.ProcessStatus;

/**
 * A completion handler may do what an application may — send, post, close its endpoint, close
 * the NIC — and the engine stays consistent: close from a handler is prompt, every operation
 * still completes exactly once, and the {@link Completion} a handler holds does not change under
 * it while the handler's own actions cause further completions.
 */
@Timeout(60)
class HandlerReentrancyTest {

    @Test
    void closingTheNicFromAHandlerOnTheNicThreadIsPromptAndReleasesEveryPin() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        Nic nic = Nic.open();
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] ab = Pairs.connect(a, b);
        CompletableFuture<Boolean> closedInside = new CompletableFuture<>();
        b.onCompletion(c -> {
            if (c.kind() == Completion.Kind.RECEIVE && c.status() == CompletionStatus.OK) {
                nic.close();
                closedInside.complete(nic.isClosed());
            }
        });
        b.postReceive(ByteBuffer.allocateDirect(64), 1);
        a.send(ab[0], ByteBuffer.allocateDirect(64), 0, 64, SendPath.PINNED, 2);
        // the old engine joined its own thread for 10 s here; 5 s is a bound, not a measurement
        assertThat(closedInside.get(5, TimeUnit.SECONDS)).as("isClosed() right after close() in the handler").isTrue();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close from the handler").isEqualTo(baseline);
    }

    @Test
    void closingTheNicFromAHandlerInCallerModeEndsTheRoundAndFailsWhatIsPending() {
        long baseline = ProcessStatus.vmLckBytes();
        Nic nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).build());
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] ab = Pairs.connect(a, b);
        List<String> seen = new ArrayList<>();
        b.onCompletion(c -> {
            seen.add(c.kind() + " " + c.status() + " " + c.cookie());
            if (c.status() == CompletionStatus.OK) {
                nic.close();
            }
        });
        b.postReceive(ByteBuffer.allocateDirect(64), 1);
        b.postReceive(ByteBuffer.allocateDirect(64), 2);
        a.send(ab[0], ByteBuffer.allocateDirect(64), 0, 64, SendPath.FIXED_SEGMENT, 3);
        for (int round = 0; round < 10 && !nic.isClosed(); round++) {
            nic.progress();
        }
        assertThat(nic.isClosed()).isTrue();
        assertThat(seen).as("the receive, then the other posted buffer failed by the close, each once")
                .containsExactly("RECEIVE OK 1", "RECEIVE CLOSED 2");
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void aHandlersCompletionStaysWhatItWasWhileTheHandlerClosesItsEndpoint() throws Exception {
        try (Nic nic = Nic.open()) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            List<String> during = new CopyOnWriteArrayList<>();
            List<String> all = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            b.onCompletion(c -> {
                all.add(c.kind() + " " + c.status() + " " + c.cookie());
                if (c.cookie() == 100) {
                    String before = c.kind() + " " + c.status() + " " + c.cookie() + " " + (c.buffer() != null) + " " + c.length();
                    b.close(); // fails the nine other posted buffers: their upcalls must not overwrite this one
                    during.add(before);
                    during.add(c.kind() + " " + c.status() + " " + c.cookie() + " " + (c.buffer() != null) + " " + c.length());
                }
                if (all.size() == 10) {
                    done.complete(null);
                }
            });
            for (int i = 0; i < 10; i++) {
                b.postReceive(ByteBuffer.allocateDirect(64), 100 + i);
            }
            a.send(ab[0], ByteBuffer.allocateDirect(64), 0, 64, SendPath.PINNED, 1);
            done.get(5, TimeUnit.SECONDS);
            assertThat(during).containsExactly("RECEIVE OK 100 true 64", "RECEIVE OK 100 true 64");
            List<String> expected = new ArrayList<>(List.of("RECEIVE OK 100"));
            for (int i = 1; i < 10; i++) {
                expected.add("RECEIVE CLOSED " + (100 + i));
            }
            assertThat(all).as("each posted buffer completes once, in order").containsExactlyElementsOf(expected);
            assertThat(a.await(Duration.ofSeconds(5))).extracting(Completion::status).isEqualTo(CompletionStatus.OK);
        }
    }

    @Test
    void aHandlerThatSendsFromInsideTheUpcallIsServedWithoutLosingOrRepeatingCompletions() throws Exception {
        int rounds = 2_000;
        try (Nic nic = Nic.open()) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            ByteBuffer reply = ByteBuffer.allocateDirect(64);
            ByteBuffer request = ByteBuffer.allocateDirect(64);
            ByteBuffer inA = ByteBuffer.allocateDirect(64);
            ByteBuffer inB = ByteBuffer.allocateDirect(64);
            CompletableFuture<Integer> finished = new CompletableFuture<>();
            int[] echoes = new int[1];
            b.onCompletion(c -> { // echo: repost, reply from inside the upcall
                if (c.kind() == Completion.Kind.RECEIVE) {
                    b.postReceive(inB, c.cookie() + 1);
                    b.send(ab[1], reply, 0, 64, SendPath.PINNED, c.cookie());
                }
            });
            a.onCompletion(c -> {
                if (c.kind() == Completion.Kind.RECEIVE) {
                    if (++echoes[0] == rounds) {
                        finished.complete(echoes[0]);
                        return;
                    }
                    a.postReceive(inA, c.cookie() + 1);
                    a.send(ab[0], request, 0, 64, SendPath.PINNED, c.cookie());
                }
            });
            b.postReceive(inB, 0);
            a.postReceive(inA, 0);
            a.send(ab[0], request, 0, 64, SendPath.PINNED, 0);
            assertThat(finished.get(30, TimeUnit.SECONDS)).isEqualTo(rounds);
            assertThat(nic.stats().handlerErrors()).isZero();
        }
    }
}
