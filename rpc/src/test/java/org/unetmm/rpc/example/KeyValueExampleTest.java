package org.unetmm.rpc.example;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.rpc.RpcClient;
import org.unetmm.rpc.RpcClientConfig;
import org.unetmm.rpc.RpcServer;
import org.unetmm.rpc.RpcServerConfig;

/** The example does what its README section says, on both wires. */
@Timeout(60)
class KeyValueExampleTest {
    @ParameterizedTest
    @ValueSource(strings = {"loopback:", "udp://127.0.0.1:0"})
    void storedValuesComeBackIntactAndMissingKeysAreNotFound(String wire) throws Exception {
        try (Nic serverNic = Nic.open(NicConfig.builder().transport(wire).build());
             Nic clientNic = Nic.open(NicConfig.builder().transport(wire).build())) {
            RpcServer server = RpcServer.open(serverNic, RpcServerConfig.defaults());
            KeyValueService store = new KeyValueService().serveOn(server);
            RpcClient rpc = RpcClient.connect(clientNic, server.address(), RpcClientConfig.builder().maxResponse(70_000).build());
            assertThat(KeyValueExample.exercise(new KeyValueClient(rpc), 200, 3000)).isTrue();
            assertThat(KeyValueExample.exercise(new KeyValueClient(rpc), 5, 65_000)).as("values of many fragments").isTrue();
            assertThat(store.size()).as("every key deleted again").isZero();
            rpc.close();
            server.close();
        }
    }
}
