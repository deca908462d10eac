// Test-only AWS credential endpoints on 127.0.0.1 (issue 5): STS AssumeRoleWithWebIdentity
// (POST /), EKS Pod Identity / container credentials (GET /pod-identity, Authorization must equal
// the token file's content) and EC2 IMDSv2 (PUT /latest/api/token, GET
// /latest/meta-data/iam/security-credentials/[role] with the session token). Every answer hands
// out s3rver's keys with a session token naming the source and a fetch counter, expiring
// EXPIRES_IN seconds from now. GET /__count returns the number of credential answers.
//   node aws_credential_server.js AUTH_TOKEN EXPIRES_IN   (prints "listening on PORT")
'use strict';
const http = require('http');
const [authToken, expiresIn] = [process.argv[2], Number(process.argv[3] || 3600)];
const imdsToken = 'imds-session-token';
let count = 0;

function credentials(source) {
  count += 1;
  return {AccessKeyId: 'S3RVER', SecretAccessKey: 'S3RVER', Token: `${source}-${count}`,
          Expiration: new Date(Date.now() + expiresIn * 1000).toISOString()};
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    const reply = (status, text, type = 'application/json') => {
      res.writeHead(status, {'Content-Type': type});
      res.end(text);
    };
    if (req.method === 'GET' && req.url === '/__count') return reply(200, String(count), 'text/plain');
    if (req.method === 'POST' && req.url === '/') {
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('WebIdentityToken') !== authToken ||
          form.get('RoleArn') !== 'arn:aws:iam::123456789012:role/cache') {
        return reply(403, '<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>', 'text/xml');
      }
      const c = credentials('irsa');
      return reply(200, `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>` +
        `<AccessKeyId>${c.AccessKeyId}</AccessKeyId><SecretAccessKey>${c.SecretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${c.Token}</SessionToken><Expiration>${c.Expiration}</Expiration>` +
        `</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, 'text/xml');
    }
    if (req.method === 'GET' && req.url === '/pod-identity') {
      if (req.headers.authorization !== authToken) return reply(401, '{"message":"bad token"}');
      return reply(200, JSON.stringify(credentials('pod-identity')));
    }
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return reply(400, 'missing ttl', 'text/plain');
      return reply(200, imdsToken, 'text/plain');
    }
    if (req.method === 'GET' && req.url.startsWith('/latest/meta-data/iam/security-credentials/')) {
      if (req.headers['x-aws-ec2-metadata-token'] !== imdsToken) return reply(401, '', 'text/plain');
      const role = req.url.slice('/latest/meta-data/iam/security-credentials/'.length);
      if (role === '') return reply(200, 'cache-role\n', 'text/plain');
      if (role !== 'cache-role') return reply(404, '', 'text/plain');
      return reply(200, JSON.stringify({Code: 'Success', Type: 'AWS-HMAC', ...credentials('imds')}));
    }
    reply(404, '{}');
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
