package policy

import (
	"encoding/json"
	"fmt"
)

// ExampleStatement is the statement a user adds so that ipsync has one to
// own, already holding the addresses it should allow: pasting it changes
// nothing for Atlas, and the first apply finds it in sync.
func ExampleStatement(kind, sid string, values []string) string {
	if values == nil {
		values = []string{}
	}
	list, _ := json.Marshal(values)
	if kind == "iam-role-policy" {
		return fmt.Sprintf(`{
  "Sid": %q,
  "Effect": "Allow",
  "Action": ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"],
  "Resource": "arn:aws:kms:REGION:ACCOUNT_ID:key/KEY_ID",
  "Condition": {"IpAddress": {"aws:SourceIp": %s}}
}`, sid, list)
	}
	if kind == "vpc-endpoint-policy" {
		return fmt.Sprintf(`{
  "Sid": %q,
  "Effect": "Allow",
  "Principal": "*",
  "Action": ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
  "Resource": "*",
  "Condition": {"IpAddress": {"aws:VpcSourceIp": %s}}
}`, sid, list)
	}
	return fmt.Sprintf(`{
  "Sid": %q,
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::ACCOUNT_ID:role/ROLE_ATLAS_ASSUMES"},
  "Action": ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"],
  "Resource": "*",
  "Condition": {"IpAddress": {"aws:SourceIp": %s}}
}`, sid, list)
}
