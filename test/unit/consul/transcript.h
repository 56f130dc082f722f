// Response bodies recorded from a real Consul 1.9 agent
// (shared/reference/consul-api-transcript.md), verbatim.
#pragma once

namespace manage::consul::transcript {

inline constexpr char kS1[] = "bad64c55-235e-5082-919c-765eac5e86a6";
inline constexpr char kS2[] = "fb56faad-231b-d9ba-011a-8f224214c52c";
inline constexpr char kS3[] = "ff8509c3-8d7c-1fa9-5e33-786586ac220b";
inline constexpr char kFirstSession[] = "5f0fbfe5-82bd-8086-7f17-6a7caab9d63e";
inline constexpr char kTiedSession[] = "a4395320-aa68-4e78-5496-26025ef6ee7a";

// Steps 4 and 5: GET /v1/health/service/mysql[?passing=1] with one passing instance.
inline constexpr char kHealthMysql[] = R"json([
    {
        "Node": {
            "ID": "ea94a6e9-157c-9f15-0f91-9b7918b88b8a",
            "Node": "vm",
            "Address": "127.0.0.1",
            "Datacenter": "dc1",
            "TaggedAddresses": {
                "lan": "127.0.0.1",
                "lan_ipv4": "127.0.0.1",
                "wan": "127.0.0.1",
                "wan_ipv4": "127.0.0.1"
            },
            "Meta": {
                "consul-network-segment": ""
            },
            "CreateIndex": 11,
            "ModifyIndex": 13
        },
        "Service": {
            "ID": "mysql-node1",
            "Service": "mysql",
            "Tags": [],
            "Address": "127.0.0.2",
            "TaggedAddresses": {
                "lan_ipv4": {
                    "Address": "127.0.0.2",
                    "Port": 3306
                },
                "wan_ipv4": {
                    "Address": "127.0.0.2",
                    "Port": 3306
                }
            },
            "Meta": null,
            "Port": 3306,
            "Weights": {
                "Passing": 1,
                "Warning": 1
            },
            "EnableTagOverride": false,
            "Proxy": {
                "MeshGateway": {},
                "Expose": {}
            },
            "Connect": {},
            "CreateIndex": 14,
            "ModifyIndex": 14
        },
        "Checks": [
            {
                "Node": "vm",
                "CheckID": "serfHealth",
                "Name": "Serf Health Status",
                "Status": "passing",
                "Notes": "",
                "Output": "Agent alive and reachable",
                "ServiceID": "",
                "ServiceName": "",
                "ServiceTags": [],
                "Type": "",
                "Definition": {},
                "CreateIndex": 11,
                "ModifyIndex": 11
            },
            {
                "Node": "vm",
                "CheckID": "service:mysql-node1",
                "Name": "Service 'mysql' check",
                "Status": "passing",
                "Notes": "",
                "Output": "ok",
                "ServiceID": "mysql-node1",
                "ServiceName": "mysql",
                "ServiceTags": [],
                "Type": "ttl",
                "Definition": {},
                "CreateIndex": 14,
                "ModifyIndex": 15
            }
        ]
    }
])json";

// Step 13: GET /v1/kv/mysql-primary while S1 holds the lock.
inline constexpr char kKvHeldByS1[] = R"json([
    {
        "LockIndex": 1,
        "Key": "mysql-primary",
        "Flags": 0,
        "Value": "bXlzcWwtbm9kZTE=",
        "Session": "bad64c55-235e-5082-919c-765eac5e86a6",
        "CreateIndex": 20,
        "ModifyIndex": 20
    }
])json";

// Step 15: PUT /v1/session/renew/<S1>.
inline constexpr char kRenewS1[] = R"json([
    {
        "ID": "bad64c55-235e-5082-919c-765eac5e86a6",
        "Name": "mysql-primary-lock",
        "Node": "vm",
        "LockDelay": 15000000000,
        "Behavior": "release",
        "TTL": "10s",
        "NodeChecks": [
            "serfHealth"
        ],
        "ServiceChecks": null,
        "CreateIndex": 18,
        "ModifyIndex": 18
    }
])json";

// Step 17: GET /v1/kv/mysql-primary after S1 released it.
inline constexpr char kKvReleased[] = R"json([
    {
        "LockIndex": 1,
        "Key": "mysql-primary",
        "Flags": 0,
        "Value": null,
        "CreateIndex": 20,
        "ModifyIndex": 22
    }
])json";

// Step 20: GET /v1/kv/mysql-primary after S2, the holder, was destroyed.
inline constexpr char kKvAfterDestroy[] = R"json([
    {
        "LockIndex": 2,
        "Key": "mysql-primary",
        "Flags": 0,
        "Value": "bXlzcWwtbm9kZTI=",
        "CreateIndex": 20,
        "ModifyIndex": 24
    }
])json";

// Step 31: GET /v1/kv/mysql-last-backup.
inline constexpr char kKvLastBackup[] = R"json([
    {
        "LockIndex": 0,
        "Key": "mysql-last-backup",
        "Flags": 0,
        "Value": "eyJpZCI6Im15c3FsLWJhY2t1cC0yMDI2LTExLTIzVDA0LTAwLTAwWiIsImR0IjoiMjAyNi0xMS0yM1QwNDowMDowMC4wMDAwMDAifQ==",
        "CreateIndex": 30,
        "ModifyIndex": 30
    }
])json";

}  // namespace manage::consul::transcript
