package org.unetmm.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Nic;
import org.unetmm.NicConfig;

/**
 * A long-lived server that clients come to and leave, one after another: what it keeps pinned
 * does not grow with the number of clients it has served.
 */
@Timeout(120)
class RpcServerClientChurnTest {
    private static final int ECHO = 3;

    private static void oneClient(Nic clientNic, RpcServer server) throws Exception {
        try (RpcClient client = RpcClient.connect(clientNic, server.address(), RpcClientConfig.builder().build())) {
            ByteBuffer request = ByteBuffer.allocateDirect(64);
            ByteBuffer response = ByteBuffer.allocateDirect(64);
            assertThat(client.call(ECHO, request, 0, 64, response, 0, 64).get(10, TimeUnit.SECONDS)).isEqualTo(64);
        }
    }

    @Test
    void theServersPinnedMemoryStaysTheSameHoweverManyClientsCameAndWent() throws Exception {
        try (Nic serverNic = Nic.open(NicConfig.builder().build()); Nic clientNic = Nic.open(NicConfig.builder().build())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.builder().requestBuffers(16).build());
            server.register(ECHO, (request, response) -> {
                response.buffer().put(0, request.buffer(), request.offset(), request.length());
                response.send(request.length());
            });
            // more clients than the server has request buffers (2 x 16, each with a reply buffer made on
            // first use): every buffer has been used once, and what is pinned now is the server's own
            for (int i = 0; i < 40; i++) {
                oneClient(clientNic, server);
            }
            long afterMany = serverNic.stats().pins().pinnedBytes();
            long clientSide = clientNic.stats().pins().pinnedBytes();
            for (int i = 0; i < 40; i++) {
                oneClient(clientNic, server);
            }
            assertThat(serverNic.stats().pins().pinnedBytes()).as("pinned after 80 clients vs after 40").isEqualTo(afterMany);
            assertThat(clientNic.stats().pins().pinnedBytes()).as("the clients' NIC, each client closed").isEqualTo(clientSide);
            server.close();
        }
    }
}
